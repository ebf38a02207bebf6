"""The transition stepper: lesson 03's stepper with two versions of the shop live beside the steps (thin widgets).

Everything it decides is :class:`coursekit.transition.Transition`'s: which moves are refused, what each version
reads, the compatibility matrix, the sync code in place. This module only lays it out and forwards clicks. From
:class:`~coursekit.stepper.MigrationStepper` it keeps the step buttons, the schema, rows and SQL panes, and the rule
that the picture is true: the database (and now the deployed versions) are read again before every click and after
every cell, and a change made outside the stepper is said.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, fields

import ipywidgets as widgets

from coursekit.migrations import MigrationError
from coursekit.stepper import SAMPLE_SQL, MigrationStepper, Picture, _join
from coursekit.transition import NOBODY, RuleError, Transition, sync_code

GOOD, BAD = "#d4f7d4", "#f9d0d0"


@dataclass(frozen=True, eq=False)
class TransitionPicture(Picture):
    """The stepper's picture, plus the versions deployed and what each reads (name, ((Written, read), ...))."""

    deployed: tuple[str, ...] = ()
    seen: tuple = ()

    def same_rows(self, other: Picture) -> bool:
        return super().same_rows(other) and self.seen == getattr(other, "seen", None)


class TransitionStepper(MigrationStepper):
    """Steps of a migration, and a panel for each version of the shop, deployed or retired, reading and writing."""

    def __init__(self, transition: Transition, table: str = "orders", sample_sql: str = SAMPLE_SQL):
        if not isinstance(transition, Transition):
            raise TypeError(f"TransitionStepper needs a Transition (the migrator and the shop's versions), got "
                            f"{type(transition).__name__}: make one with Transition(migrator, [V1, V2]).")
        self.transition = transition
        self.panels = {name: _Panel(self, name) for name in transition.apps}
        self.matrix = widgets.HTML()
        self.matrix.add_class("coursekit-matrix")
        self.costs = widgets.HTML()
        self.costs.add_class("coursekit-costs")
        self.check = None  # the last compatibility check shown
        super().__init__(transition.migrator, table, sample_sql)

    # --- clicks -------------------------------------------------------------------------------------

    def _move_to(self, version: int) -> list:
        return self.transition.go_to(version)  # refuses a move that breaks a deployed version

    def shop_act(self, action) -> None:
        """Run a deploy, retire or a version's write (``action()`` returns the sentence to say) and redraw.

        As for a step: the database and the deployed versions are read first, and a change made outside the stepper
        is said before the result. A refusal (MigrationError) is reported, not raised.
        """
        before = self._look_or_explain()
        if before is None:
            return
        moved = self._changed_outside(before)
        try:
            said = action()
        except MigrationError as error:
            said = f"⚠️ {error}"
        self._finish(before, _join(moved, said), runs=None)

    def deploy(self, name: str) -> None:
        self.shop_act(lambda: self.transition.deploy(name))

    def retire(self, name: str) -> None:
        self.shop_act(lambda: self.transition.retire(name))

    def place_order(self, name: str, order_id: str | None, amount) -> None:
        """Version ``name`` places an order (``order_id`` None: a new id of its own, NEW-V1-1...)."""

        def place():
            new_id = self.transition.new_order_id(name) if order_id is None else order_id
            return _said(self.transition.place_order(name, new_id, amount), new_id, amount)

        self.shop_act(place)

    def update_amount(self, name: str, order_id: str, amount) -> None:
        self.shop_act(lambda: _said(self.transition.update_amount(name, order_id, amount), order_id, amount))

    def read_again(self) -> None:
        self.shop_act(lambda: "Both versions read the orders again.")

    # --- looking ------------------------------------------------------------------------------------

    def _look(self) -> TransitionPicture:
        picture = super()._look()
        values = {field.name: getattr(picture, field.name) for field in fields(Picture)}
        seen = tuple((name, tuple((written, read.shown) for written, read in self.transition.reads(name)))
                     for name in self.transition.apps)
        return TransitionPicture(**values, deployed=tuple(self.transition.deployed_names()), seen=seen)

    def _changed_outside(self, now: TransitionPicture) -> str:
        said = super()._changed_outside(now)
        shown = self._shown
        if shown is None or now.deployed == shown.deployed:
            return said
        came = [name for name in now.deployed if name not in shown.deployed]
        went = [name for name in shown.deployed if name not in now.deployed]
        changes = [f"shop {name} was deployed" for name in came] + [f"shop {name} was retired" for name in went]
        return _join(said, f"Outside the stepper, {' and '.join(changes)}.")

    def _summary(self, runs) -> str:
        locked = ", ".join(f"{run.step} {run.seconds * 1000:.1f} ms" for run in runs)
        return f"{super()._summary(runs)} Write transaction (the table locked meanwhile): {locked}."

    # --- drawing ------------------------------------------------------------------------------------

    def _layout(self) -> widgets.VBox:
        """Steps, the two shops and what they cost side by side (wrapping on a narrow screen); schema and SQL below."""
        heading = widgets.HTML(f"<b>Steps of the migration of {html.escape(self.table)}</b>, "
                               "with the versions of the shop running beside them")
        steps = widgets.VBox([*self.toggles, self.reset_button, self.reload_button],
                             layout=widgets.Layout(min_width="280px", margin="0 12px 0 0"))
        side = widgets.VBox([widgets.HTML("<b>Who can read what</b> (now; every version tried, then rolled back)"),
                             self.matrix, widgets.HTML("<b>What the transition costs</b>"), self.costs],
                            layout=widgets.Layout(max_width="520px"))
        top = widgets.HBox([steps, *(panel.view for panel in self.panels.values()), side],
                           layout=widgets.Layout(flex_flow="row wrap"))
        schema = widgets.VBox([
            widgets.HTML("<b>Schema</b> (green: added, yellow: changed, red: removed by the last action)"),
            self.schema], layout=widgets.Layout(margin="0 16px 0 0"))
        sql = widgets.VBox([widgets.HTML("<b>SQL that the last step ran</b>"), self.sql])
        return widgets.VBox([heading, self.message, top, widgets.HBox([schema, sql],
                                                                     layout=widgets.Layout(flex_flow="row wrap")),
                             widgets.HTML("<b>Rows</b>"), self.rows])

    def _draw_rows(self, picture: Picture) -> None:
        """Rows, and with them everything the versions read: panels, matrix and costs (before the message)."""
        super()._draw_rows(picture)
        try:
            self.check = self.transition.matrix()
            self.matrix.value = _matrix_html(self.check, self.transition)
        except RuleError as error:  # the lesson's check is broken: say so where the matrix would be
            self.check = None
            self.matrix.value = f"<p>⚠️ {html.escape(str(error))}</p>"
        seen = dict(picture.seen) if isinstance(picture, TransitionPicture) else {}
        for name, panel in self.panels.items():
            panel.draw(self.check, seen.get(name, ()))
        self.costs.value = self._costs_html(picture)

    def _show_problem(self, error: Exception) -> None:
        super()._show_problem(error)
        self.matrix.value = self.costs.value = ""
        for panel in self.panels.values():
            panel.reads.value = ""

    def _costs_html(self, picture: Picture) -> str:
        with self.migrator.engine.connect() as conn:
            triggers = sync_code(conn, self.table)
        if triggers:
            code = "".join(f"<pre>{html.escape(sql)};</pre>" for _, sql in triggers)
            parts = [f"<p>{len(triggers)} trigger(s) on {html.escape(self.table)} run with every write "
                     f"(from the database's catalogue):</p><div style='max-height: 12em; overflow: auto'>{code}</div>"]
        else:
            parts = [f"<p>No trigger on {html.escape(self.table)}: writes cost what they cost.</p>"]
        last = self.migrator.history[-1:] or None
        if last:
            run = last[0]
            parts.append(f"<p>The last step ({html.escape(run.describe())}) held a write transaction for "
                         f"<b>{run.seconds * 1000:.1f} ms</b> on {picture.total:,} rows: every other writer, "
                         "both versions of the shop included, waited that long.</p>")
        return "".join(parts)

    def summary(self) -> str:
        try:
            return f"Transition stepper for {self.table}: {self.transition.summary()}"
        except Exception as error:  # noqa: BLE001 - a repr must not raise
            return f"Transition stepper for {self.table}: the version cannot be read ({error})"


class _Panel:
    """One version of the shop: deploy/retire, its three actions, what it reads, the SQL it runs."""

    def __init__(self, stepper: TransitionStepper, name: str):
        self.stepper, self.name = stepper, name
        self.deployed = widgets.ToggleButton(description="deployed", tooltip=f"Deploy or retire shop {name}",
                                             layout=widgets.Layout(width="220px"))
        self.deployed.observe(self._on_deployed, names="value")
        box = widgets.Layout(width="250px")
        self.order_box = widgets.Text(value="ORD-0000001", description="Order", layout=box)
        self.amount_box = widgets.FloatText(value=10.0, description="Amount", layout=box)
        wide = widgets.Layout(width="200px")
        self.place_button = widgets.Button(description="Place an order", icon="plus", layout=wide)
        self.place_button.on_click(lambda _: self.stepper.place_order(name, None, self.amount_box.value))
        self.update_button = widgets.Button(description="Change the amount", icon="pencil", layout=wide)
        self.update_button.on_click(lambda _: self.stepper.update_amount(name, self.order_box.value,
                                                                         self.amount_box.value))
        self.read_button = widgets.Button(description="Read the last orders", icon="refresh", layout=wide)
        self.read_button.on_click(lambda _: self.stepper.read_again())
        self.reads, self.sql = widgets.HTML(), widgets.HTML()
        self.view = widgets.VBox(
            [widgets.HTML(f"<b>shop {html.escape(name)}</b>"), self.deployed, self.amount_box, self.place_button,
             self.order_box, self.update_button, self.read_button, self.reads, self.sql],
            layout=widgets.Layout(width="330px", margin="0 12px 0 0", border="1px solid #ccc", padding="4px"))
        self.view.add_class(f"coursekit-shop-{name}")  # for the browser test and a learner's own styling
        self._syncing = False

    def _on_deployed(self, change) -> None:
        if not self._syncing:
            (self.stepper.deploy if change["new"] else self.stepper.retire)(self.name)

    def draw(self, check, seen) -> None:
        transition = self.stepper.transition
        live = self.name in transition.deployed
        self._syncing = True
        try:
            self.deployed.value = live
            self.deployed.description = "deployed: click to retire" if live else "not deployed: click to deploy"
            self.deployed.button_style = "success" if live else ""
        finally:
            self._syncing = False
        for button in (self.place_button, self.update_button):
            button.disabled = not live
        rows = []
        for written, read in seen:
            right = read == written.amount
            who = "before the transition" if written.by == NOBODY else f"shop {written.by}"
            shown = html.escape("NULL" if read is None else str(read))
            rows.append(f"<tr><td>{html.escape(written.order_id)}</td><td>{html.escape(str(written.amount))} "
                        f"({html.escape(who)})</td><td style='background-color: {GOOD if right else BAD}'>"
                        f"{shown}</td></tr>")
        status = "" if live else "<p><i>not deployed: what it would read</i></p>"
        self.reads.value = (f"{status}<table><tr><th>order</th><th>written</th><th>shop {html.escape(self.name)} "
                            f"reads</th></tr>{''.join(rows)}</table>")
        sql = check.sql_of(self.name) if check is not None else {}
        self.sql.value = "<p>Its SQL:</p>" + "".join(
            f"<p><code>{html.escape(function)}</code>: <code>{html.escape(statement)}</code></p>"
            for function, statement in sql.items())


def _said(made, order_id, amount) -> str:
    """A version's write in one sentence: what it did, or the database's refusal."""
    if made.error:
        return (f"⚠️ Shop {made.version}'s {made.function} failed, nothing changed: {made.error} "
                f"(its SQL: {made.query()}).")
    return f"Shop {made.version} ran {made.function}({order_id!r}, {amount!r}): {made.query()}."


def _matrix_html(check, transition: Transition) -> str:
    """A row a version: can it write, and does it read right what each version wrote and the old rows? Green: yes."""
    names = list(transition.apps)
    head = "<th>writes</th>" + "".join(f"<th>reads {html.escape(name)}'s writes</th>" for name in names)
    body = []
    for reader in names:
        cells = [_cell(check.can_write(reader), "writes", "cannot write")]
        for writer in names:
            if check.can_write(writer):
                cells.append(_cell(check.cell(reader, writer), "reads right", "reads wrong"))
            else:
                cells.append(f"<td>— ({html.escape(writer)} cannot write)</td>")
        cells.append(_cell(check.cell(reader, NOBODY), "reads right", "reads wrong"))
        live = "deployed" if reader in transition.deployed else "not deployed"
        body.append(f"<tr><th>shop {html.escape(reader)} ({live})</th>{''.join(cells)}</tr>")
    version = transition.migrator.current()
    return (f"<p>At version {version} of {transition.migrator.head}:</p>"
            f"<table><tr><th></th>{head}<th>reads old rows</th></tr>{''.join(body)}</table>")


def _cell(good: bool, yes: str, no: str) -> str:
    return f"<td style='background-color: {GOOD if good else BAD}'>{'✓ ' + yes if good else '✗ ' + no}</td>"
