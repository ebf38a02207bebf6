"""The migration stepper: a thin ipywidgets layer over :class:`coursekit.migrations.Migrator`.

The state lives in the database (its stored version); the widgets only show it and ask the
migrator to move. Turning a step on applies it (and the earlier steps not yet applied); turning
it off undoes it (and every later step). Every action redraws the SQL that ran, the schema with
what changed highlighted, a sample of rows and a one-line message.

Other things move the same database too: a later cell, another ``Migrator``, SQL typed by hand.
So the stepper reads the database again before every click and after every cell the learner runs
(IPython's ``post_run_cell`` event), and says so when the database moved without it.
"""

from __future__ import annotations

import html
import weakref
from contextlib import suppress
from dataclasses import dataclass

import ipywidgets as widgets
import pandas as pd
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from coursekit.db import shares_one_connection
from coursekit.migrations import MigrationError, Migrator
from coursekit.schema import compare_schemas, rules_frame, schema_frame

SAMPLE_SQL = "SELECT * FROM orders ORDER BY order_id LIMIT 6"
# What can stop the stepper from reading the database: no table, a stored version that is not one of
# the migration's, or the database itself refusing.
UNREADABLE = (LookupError, MigrationError, SQLAlchemyError)
CHANGED_OUTSIDE_SQL = (
    "<p><i>(the last change was made outside the stepper, by a cell, another migrator or SQL typed by hand: "
    "its SQL is not known here)</i></p>"
)

# The stepper each notebook cell made last, by cell id: running the cell again replaces it (see _watch_cells).
_STEPPER_BY_CELL: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


@dataclass(frozen=True, eq=False)
class Picture:
    """What the stepper shows, as read from the database at one moment."""

    version: int
    columns: pd.DataFrame
    rules: pd.DataFrame
    total: int
    sample: pd.DataFrame

    def same_schema(self, other: Picture) -> bool:
        return self.columns.equals(other.columns) and self.rules.equals(other.rules)

    def same_rows(self, other: Picture) -> bool:
        return self.total == other.total and self.sample.equals(other.sample)


class MigrationStepper:
    """Toggle buttons for the steps of a migration, with the schema and rows they produce."""

    def __init__(self, migrator: Migrator, table: str = "orders", sample_sql: str = SAMPLE_SQL):
        if not shares_one_connection(migrator.engine):
            raise ValueError(
                "This engine gives every thread its own in-memory database, and widget clicks may run on "
                "another thread than your cells. Create it with coursekit.db.make_engine() instead of "
                "create_engine('sqlite:///:memory:')."
            )
        self.migrator = migrator
        self.table = table
        self.sample_sql = sample_sql
        self._syncing = False
        self._shell = None
        self.toggles = [self._make_toggle(number, step.name) for number, step in enumerate(migrator.steps, 1)]
        self.reset_button = widgets.Button(
            description="Undo all steps", icon="undo", tooltip="Go back to version 0: the table as it was first built"
        )
        self.reset_button.on_click(lambda _: self.act(lambda: self._move_to(0), "Nothing to do: the database is "
                                                                                 "already at version {version}."))
        self.reload_button = widgets.Button(
            description="Read the database again", icon="refresh",
            tooltip="Show the version, schema and rows the database holds now, whatever changed them",
        )
        self.reload_button.on_click(lambda _: self.update_from_database(say_unchanged=True))
        box_layout = widgets.Layout(width="260px")
        self.order_box = widgets.Text(value="ORD-0000001", description="Order", layout=box_layout)
        self.status_box = widgets.Text(value="cancelled", description="New status", layout=box_layout)
        self.write_button = widgets.Button(description="Write this status", icon="pencil",
                                           tooltip="UPDATE the order's status, as the shop would")
        self.write_button.on_click(lambda _: self.write_status(self.order_box.value, self.status_box.value))
        self.message = widgets.HTML()
        self.sql = widgets.HTML()
        self.schema = widgets.HTML()
        self.rows = widgets.HTML()
        self.view = self._layout()
        self._shown: Picture | None = None
        first = self._look()  # no table yet: the LookupError says which cell to run
        self._draw(first, "Click a step to apply it; click it again to undo it and the steps after it.", runs=[])
        self._watch_cells()

    def _make_toggle(self, number: int, name: str) -> widgets.ToggleButton:
        toggle = widgets.ToggleButton(
            description=f"{number}. {name}",
            tooltip=f"On: apply steps 1 to {number}. Off: undo step {number} and every later step.",
            layout=widgets.Layout(width="260px"),
        )
        toggle.observe(lambda change, n=number: self._on_toggle(n, change["new"]), names="value")
        return toggle

    def _layout(self) -> widgets.VBox:
        heading = widgets.HTML(f"<b>Migration steps of <code>{html.escape(self.table)}</code></b>")
        writer = widgets.HTML("<b>Act as the shop</b>")
        controls = widgets.VBox([*self.toggles, self.reset_button, self.reload_button, writer, self.order_box,
                                 self.status_box, self.write_button],
                                layout=widgets.Layout(min_width="280px", margin="0 16px 0 0"))
        panes = widgets.VBox(
            [
                widgets.HTML("<b>Schema</b> (green: added, yellow: changed, red: removed by the last action)"),
                self.schema,
                widgets.HTML("<b>Rows</b>"), self.rows,
                widgets.HTML("<b>SQL that the last action ran</b>"), self.sql,
            ]
        )
        return widgets.VBox([heading, self.message, widgets.HBox([controls, panes])])

    # --- clicks -------------------------------------------------------------------------------------

    def _on_toggle(self, number: int, turned_on: bool) -> None:
        """A click does what the button's label said when it was clicked, to the database as it is now.

        On: make sure steps 1 to ``number`` are applied (upgrade to it if the database is below it; never
        undo anything). Off: make sure step ``number`` is not applied (downgrade to just before it if the
        database is at it or past it). When the picture was current, that is exactly upgrade or downgrade
        to the step; when the database had moved, nothing is undone that the learner did not ask to undo.
        """
        if self._syncing:
            return
        if turned_on:
            self.act(lambda: self._move_to(number) if self.migrator.current() < number else [],
                     f"Step {number} is already applied (the database is at version {{version}} of {{head}}), "
                     "so nothing ran.")
        else:
            self.act(lambda: self._move_to(number - 1) if self.migrator.current() >= number else [],
                     f"Step {number} is not applied (the database is at version {{version}} of {{head}}), "
                     "so nothing ran.")

    def _move_to(self, version: int) -> list:
        """How a click moves the database (a subclass may refuse moves, see coursekit.transition_stepper)."""
        return self.migrator.go_to(version)

    def act(self, action, nothing_to_do: str = "Nothing to do: the database is at version {version}.") -> None:
        """Run a migrator action on the database as it is now, and redraw; a refused action is reported, not raised.

        The database is read first: if it moved since the stepper last showed it, the message says so at once,
        before anything runs, and again with the result. ``nothing_to_do`` is said when the action ran no
        step (with ``{version}`` and ``{head}`` filled in).
        """
        before = self._look_or_explain()
        if before is None:
            return
        moved = self._changed_outside(before)
        if moved:
            self._say(f"{moved} Acting on the database as it is now…")
        try:
            runs = action()
        except MigrationError as error:
            self._finish(before, _join(moved, f"⚠️ {error}"), runs=None)
            return
        if runs:
            self._finish(before, _join(moved, self._summary(runs)), runs=runs)
        else:
            said = nothing_to_do.format(version=before.version, head=self.migrator.head)
            self._finish(before, _join(moved, said), runs=None if moved else [])

    def write_status(self, order_id, status) -> None:
        """Write one order's status as the shop would: values bound as parameters, never spliced into SQL.

        Whatever is typed is stored literally, or refused by the database's own rules (no status column yet,
        a CHECK constraint), and the message says which.
        """
        order_id, status = str(order_id).strip(), str(status)
        before = self._look_or_explain()
        if before is None:
            return
        moved = self._changed_outside(before)
        if not status.strip():
            self._finish(before, _join(moved, "⚠️ Type a status to write, e.g. cancelled."), runs=None)
            return
        try:
            with self.migrator.engine.begin() as conn:
                updated = conn.execute(
                    text("UPDATE orders SET status = :status WHERE order_id = :order_id"),
                    {"status": status, "order_id": order_id},
                ).rowcount
        except DBAPIError as error:
            reason = str(error.orig).splitlines()[0]
            missing_column = "no such column: status" in reason or 'column "status"' in reason
            hint = " Apply step 1 first: it adds the column." if missing_column else ""
            self._finish(before, _join(moved, f"⚠️ Refused by the database, nothing changed: {reason}.{hint}"),
                         runs=None)
            return
        if updated == 0:
            said = f"⚠️ There is no order {order_id!r}; order ids look like ORD-0000001."
        else:
            said = f"Order {order_id} now has status {status!r}."
        self._finish(before, _join(moved, said), runs=None)

    # --- looking ------------------------------------------------------------------------------------

    def update_from_database(self, say_unchanged: bool = False) -> None:
        """Read the database again and show it, saying what changed outside the stepper.

        Runs after every cell (see :meth:`_watch_cells`) and from the "Read the database again" button.
        When nothing changed, the picture (and what the last action highlighted) stays as it is.
        """
        now = self._look_or_explain()
        if now is None:
            return
        moved = self._changed_outside(now)
        if moved:
            sql_html = CHANGED_OUTSIDE_SQL if self._database_changed_outside(now) else None
            self._draw(now, moved, runs=None, sql_html=sql_html)
        elif not now.same_rows(self._shown):
            self._draw_rows(now)
            self._shown = now
        elif say_unchanged:
            self._say(f"Nothing changed since the stepper last read the database: version {now.version} of "
                      f"{self.migrator.head}.")

    def _look(self) -> Picture:
        """Read what the stepper shows from the database: version, schema, rules and a sample of the rows."""
        version = self.migrator.current()
        columns, rules = schema_frame(self.migrator.engine, self.table), rules_frame(self.migrator.engine, self.table)
        with self.migrator.engine.connect() as conn:
            sample = pd.read_sql(text(self.sample_sql), conn)
            quoted = conn.dialect.identifier_preparer.quote(self.table)
            total = conn.execute(text(f"SELECT count(*) FROM {quoted}")).scalar_one()
        return Picture(version, columns, rules, total, sample)

    def _look_or_explain(self) -> Picture | None:
        """:meth:`_look`, or None after showing why the database cannot be read (and disabling the steps)."""
        try:
            return self._look()
        except UNREADABLE as error:
            self._show_problem(error)
            return None

    def _changed_outside(self, now: Picture) -> str:
        """What changed since the stepper last showed it, outside the stepper, in one sentence, or ''."""
        return self._database_changed_outside(now)

    def _database_changed_outside(self, now: Picture) -> str:
        """How the version or the schema changed since the stepper last showed them, in one sentence, or ''."""
        shown, head = self._shown, self.migrator.head
        if shown is None:
            return f"The database can be read again: it is at version {now.version} of {head}."
        if now.version != shown.version:
            return (f"The database was moved to version {now.version} outside the stepper (the stepper showed "
                    f"version {shown.version}).")
        if not now.same_schema(shown):
            return (f"The table {self.table} was changed outside the stepper (highlighted below), but the database "
                    f"still says version {now.version}: the steps may no longer fit the table.")
        return ""  # rows written by a cell (the shop at work) are redrawn without a word

    # --- drawing ------------------------------------------------------------------------------------

    def _finish(self, before: Picture, message: str, runs) -> None:
        """Redraw after an action, highlighting what the action changed (compared with ``before``).

        When the database had moved outside the stepper and the action ran no SQL, the SQL pane says the last
        change came from outside instead of showing the stepper's own last SQL.
        """
        moved = bool(self._shown is not None and self._database_changed_outside(before))
        now = self._look_or_explain()
        if now is not None:
            self._shown = before
            self._draw(now, message, runs, sql_html=CHANGED_OUTSIDE_SQL if moved and not runs else None)

    def _draw(self, picture: Picture, message: str, runs, sql_html: str | None = None) -> None:
        """Show ``picture``; the schema is compared with what was shown before. ``runs=None``: nothing ran."""
        shown = self._shown or picture
        self._syncing = True
        try:
            for number, toggle in enumerate(self.toggles, 1):
                toggle.value = number <= picture.version
                toggle.icon = "check" if number <= picture.version else ""
                toggle.button_style = "success" if number <= picture.version else ""
                toggle.disabled = False
        finally:
            self._syncing = False
        self.reset_button.disabled = False
        if sql_html is not None:
            self.sql.value = sql_html
        elif runs is not None:
            self.sql.value = _sql_html(runs)
        self.schema.value = (
            compare_schemas(shown.columns, picture.columns, uuid="stepper_columns").to_html()
            + compare_schemas(shown.rules, picture.rules, uuid="stepper_rules", key="rule").to_html()
        )
        self._draw_rows(picture)
        self._shown = picture
        # The message goes last: when it shows, every pane above already shows the same state.
        self._say(message)

    def _draw_rows(self, picture: Picture) -> None:
        table_html = picture.sample.to_html(index=False, na_rep="NULL")
        self.rows.value = f"<p>{picture.total:,} rows; the first {len(picture.sample)}:</p>{table_html}"

    def _show_problem(self, error: Exception) -> None:
        """The database cannot be read: say why, blank the panes, and refuse clicks until it can be read."""
        self._syncing = True
        try:
            for toggle in self.toggles:
                toggle.value, toggle.icon, toggle.button_style, toggle.disabled = False, "", "", True
        finally:
            self._syncing = False
        self.reset_button.disabled = True
        self.schema.value = self.rows.value = ""
        self._shown = None
        reason = str(error.orig).splitlines()[0] if isinstance(error, DBAPIError) else str(error)
        self._say(f"⚠️ {reason}")

    def _say(self, message: str) -> None:
        self.last_message = message
        self.message.value = f"<p>{html.escape(message)}</p>"

    def _summary(self, runs) -> str:
        moved = "Applied" if runs[0].direction == "upgrade" else "Undid"
        names = ", ".join(f"{run.from_version if moved == 'Undid' else run.to_version}. {run.step}" for run in runs)
        return f"{moved} {names}. The database is now at version {runs[-1].to_version} of {self.migrator.head}."

    def summary(self) -> str:
        try:
            version = self.migrator.current()
        except UNREADABLE as error:
            return f"Migration stepper for {self.table}: the version cannot be read ({error})"
        applied = ", ".join(step.name for step in self.migrator.steps[:version]) or "none"
        head = self.migrator.head
        return f"Migration stepper for {self.table}: version {version} of {head}; steps applied: {applied}"

    def _repr_mimebundle_(self, **kwargs):
        """Show the widgets; the plain-text part is a stable one-line summary (for tests and plain consoles)."""
        bundle = self.view._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = self.summary()
        return bundle

    # --- after every cell ---------------------------------------------------------------------------

    def _watch_cells(self) -> None:
        """In IPython, read the database again after every cell the learner runs (the post_run_cell event).

        Registered once per stepper. A cell run again makes a new stepper, and its output (the old
        stepper's view) is gone: the older stepper made by the same cell is closed, its event handler
        removed, so re-running a cell does not pile up steppers refreshing out of sight. Outside IPython
        (tests, scripts) nothing is registered: a click still reads the database before it acts.
        """
        shell = _ipython_shell()
        if shell is None:
            return
        self._shell = shell
        shell.events.register("post_run_cell", self._after_cell)
        cell = _running_cell_id(shell)
        if cell is not None:
            older = _STEPPER_BY_CELL.get(cell)
            if older is not None and older is not self:
                older.close()
            _STEPPER_BY_CELL[cell] = self

    def _after_cell(self, result=None) -> None:
        """post_run_cell handler. Never raises: an error here would be printed under every cell."""
        try:
            self.update_from_database()
        except Exception as error:  # noqa: BLE001 - shown in the stepper instead of under the learner's cell
            self._say(f"⚠️ The stepper could not read the database after that cell: {type(error).__name__}: {error}")

    def close(self) -> None:
        """Stop following cells and close every widget of the stepper (its view disappears)."""
        if self._shell is not None:
            with suppress(ValueError):
                self._shell.events.unregister("post_run_cell", self._after_cell)
            self._shell = None
        for widget in _widgets_in(self.view):
            widget.close()


def _join(*sentences: str) -> str:
    return " ".join(sentence for sentence in sentences if sentence)


def _widgets_in(widget) -> list:
    children = getattr(widget, "children", ())
    return [widget, *(inner for child in children for inner in _widgets_in(child))]


def _ipython_shell():
    """The running IPython shell, or None outside IPython."""
    with suppress(ImportError):
        from IPython import get_ipython

        return get_ipython()
    return None


def _running_cell_id(shell) -> str | None:
    """The id of the notebook cell running now, where the front end sends one (JupyterLab does), else None."""
    result = getattr(getattr(shell, "displayhook", None), "exec_result", None)
    return getattr(getattr(result, "info", None), "cell_id", None)


def _sql_html(runs) -> str:
    if not runs:
        return "<p><i>(no SQL ran)</i></p>"
    parts = []
    for run in runs:
        statements = ";\n".join(run.sql) + ";"
        parts.append(f"<p>-- {html.escape(run.describe())}</p><pre>{html.escape(statements)}</pre>")
    # scrolls inside its own box, so a long rebuild does not push the schema and rows out of sight
    return f'<div style="max-height: 16em; overflow: auto">{"".join(parts)}</div>'
