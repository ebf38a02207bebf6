"""The migration stepper: a thin ipywidgets layer over :class:`coursekit.migrations.Migrator`.

The state lives in the database (its stored version); the widgets only show it and ask the
migrator to move. Turning a step on upgrades to it (earlier steps first); turning it off
downgrades to just before it (later steps are undone with it). Every action redraws the SQL
that ran, the schema with what changed highlighted, a sample of rows and a one-line message.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import pandas as pd
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from coursekit.db import shares_one_connection
from coursekit.migrations import MigrationError, Migrator
from coursekit.schema import compare_schemas, rules_frame, schema_frame

SAMPLE_SQL = "SELECT * FROM orders ORDER BY order_id LIMIT 6"


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
        self.toggles = [self._make_toggle(number, step.name) for number, step in enumerate(migrator.steps, 1)]
        self.reset_button = widgets.Button(
            description="Undo all steps", icon="undo", tooltip="Go back to version 0: the table as it was first built"
        )
        self.reset_button.on_click(lambda _: self.act(self.migrator.reset))
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
        self._schema_shown = self._read_schema()
        self.refresh("Click a step to apply it; click it again to undo it and the steps after it.", runs=[])

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
        controls = widgets.VBox([*self.toggles, self.reset_button, writer, self.order_box, self.status_box,
                                 self.write_button], layout=widgets.Layout(min_width="280px", margin="0 16px 0 0"))
        panes = widgets.VBox(
            [
                widgets.HTML("<b>Schema</b> (green: added, yellow: changed, red: removed by the last action)"),
                self.schema,
                widgets.HTML("<b>Rows</b>"), self.rows,
                widgets.HTML("<b>SQL that the last action ran</b>"), self.sql,
            ]
        )
        return widgets.VBox([heading, self.message, widgets.HBox([controls, panes])])

    def _on_toggle(self, number: int, turned_on: bool) -> None:
        if self._syncing:
            return
        target = number if turned_on else number - 1
        self.act(lambda: self.migrator.go_to(target))

    def act(self, action) -> None:
        """Run a migrator action and redraw; a refused or failed action is reported, never raised."""
        try:
            runs = action()
        except MigrationError as error:
            self.refresh(f"⚠️ {error}", runs=None)
            return
        self.refresh(self._summary(runs), runs=runs)

    def write_status(self, order_id, status) -> None:
        """Write one order's status as the shop would: values bound as parameters, never spliced into SQL.

        Whatever is typed is stored literally, or refused by the database's own rules (no status column yet,
        a CHECK constraint), and the message says which.
        """
        order_id, status = str(order_id).strip(), str(status)
        if not status.strip():
            self.refresh("⚠️ Type a status to write, e.g. cancelled.", runs=None)
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
            self.refresh(f"⚠️ Refused by the database, nothing changed: {reason}.{hint}", runs=None)
            return
        if updated == 0:
            self.refresh(f"⚠️ There is no order {order_id!r}; order ids look like ORD-0000001.", runs=None)
            return
        self.refresh(f"Order {order_id} now has status {status!r}.", runs=None)

    def _summary(self, runs) -> str:
        if not runs:
            return f"Nothing to do: the database is already at version {self.migrator.current()}."
        moved = "Applied" if runs[0].direction == "upgrade" else "Undid"
        names = ", ".join(f"{run.from_version if moved == 'Undid' else run.to_version}. {run.step}" for run in runs)
        return f"{moved} {names}. The database is now at version {runs[-1].to_version} of {self.migrator.head}."

    def _read_schema(self):
        return schema_frame(self.migrator.engine, self.table), rules_frame(self.migrator.engine, self.table)

    def refresh(self, message: str, runs) -> None:
        """Redraw every pane from the database; ``runs=None`` keeps the last SQL shown (nothing ran)."""
        version = self.migrator.current()
        self._syncing = True
        try:
            for number, toggle in enumerate(self.toggles, 1):
                toggle.value = number <= version
                toggle.icon = "check" if number <= version else ""
                toggle.button_style = "success" if number <= version else ""
        finally:
            self._syncing = False
        if runs is not None:
            self.sql.value = _sql_html(runs)
        columns_before, rules_before = self._schema_shown
        try:
            columns_now, rules_now = self._read_schema()
        except LookupError as error:
            self.schema.value = self.rows.value = ""
            self.last_message = f"⚠️ {error}"
            self.message.value = f"<p>{html.escape(self.last_message)}</p>"
            return
        self.schema.value = (
            compare_schemas(columns_before, columns_now, uuid="stepper_columns").to_html()
            + compare_schemas(rules_before, rules_now, uuid="stepper_rules", key="rule").to_html()
        )
        self._schema_shown = (columns_now, rules_now)
        with self.migrator.engine.connect() as conn:
            sample = pd.read_sql(text(self.sample_sql), conn)
            count = conn.execute(text(f"SELECT count(*) FROM {conn.dialect.identifier_preparer.quote(self.table)}"))
            total = count.scalar_one()
        table_html = sample.to_html(index=False, na_rep="NULL")
        self.rows.value = f"<p>{total:,} rows; the first {len(sample)}:</p>{table_html}"
        # The message goes last: when it shows, every pane above already shows the same state.
        self.last_message = message
        self.message.value = f"<p>{html.escape(message)}</p>"

    def summary(self) -> str:
        version = self.migrator.current()
        applied = ", ".join(step.name for step in self.migrator.steps[:version]) or "none"
        head = self.migrator.head
        return f"Migration stepper for {self.table}: version {version} of {head}; steps applied: {applied}"

    def _repr_mimebundle_(self, **kwargs):
        """Show the widgets; the plain-text part is a stable one-line summary (for tests and plain consoles)."""
        bundle = self.view._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = self.summary()
        return bundle


def _sql_html(runs) -> str:
    if not runs:
        return "<p><i>(no SQL ran)</i></p>"
    parts = []
    for run in runs:
        statements = ";\n".join(run.sql) + ";"
        parts.append(f"<p>-- {html.escape(run.describe())}</p><pre>{html.escape(statements)}</pre>")
    # scrolls inside its own box, so a long rebuild does not push the schema and rows out of sight
    return f'<div style="max-height: 16em; overflow: auto">{"".join(parts)}</div>'

