"""Lesson 19's exercise checks (see :mod:`coursekit.exercises` for how checks behave).

Both run the learner's answer on a scratch shop of ten accounts and fifteen orders, made so that the survivor rules
differ: the account with the most orders is not always the oldest, the oldest not always the lowest id, one tie in
orders is broken by the sign-up date, two accounts have no orders, and two orders name a customer deleted long ago
(orphans, lesson 18's topic), which a merge must leave alone.

- exercise 1, :func:`check_survivor_query`: a query naming, for every account that shares its address (once written
  the same way) with another, the account that survives: the one with the most orders, ties to the oldest;
- exercise 2, :func:`check_merge_most_orders`: a function that merges the duplicates by that rule in the lesson's
  way (audit, re-point the orders, delete, normalise the addresses, a unique index on ``lower(trim(email))``).
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from coursekit.customers import CREATE_CUSTOMERS
from coursekit.db import make_engine
from coursekit.exercises import Verdict, explain_error
from coursekit.migrations import enable_transactional_ddl
from coursekit.order_steps import CREATE_ORDERS

# customer_id: (name, e-mail address as stored, signed up, orders)
ACCOUNTS = {
    "A-1": ("Ann Berg", "ann@example.com", "2023-01-01", 1),
    "A-2": ("Ann Berg", "Ann@Example.com", "2023-05-01", 3),
    "A-3": ("Ann Berg", " ann@example.com ", "2023-09-01", 0),
    "B-2": ("Bob Costa", " BOB@example.com", "2023-03-01", 2),
    "B-7": ("Bob Costa", "bob@example.com", "2023-02-01", 2),
    "C-1": ("Cy Dubois", "cy@example.com", "2023-01-10", 1),
    "D-1": ("Dee Olsen", "dee@example.com", "2023-04-01", 0),
    "D-2": ("Dee Olsen", "dee@EXAMPLE.COM", "2023-06-01", 1),
    "E-1": ("Eve Young", "eve@example.com", "2023-01-15", 2),
    "E-2": ("Eve Young", "  eve@example.com", "2023-08-01", 1),
}
ORPHAN, ORPHAN_ORDERS = "X-9", 2  # a customer deleted before the lesson; its orders remain
AMOUNTS = (12.5, 7.25, 30.0, 19.99, 5.0, 42.1, 8.8, 15.0, 22.45, 9.99, 3.5, 60.0, 11.11, 27.3, 4.75)
SURVIVORS = {"A-1": "A-2", "A-2": "A-2", "A-3": "A-2", "B-2": "B-7", "B-7": "B-7", "D-1": "D-2", "D-2": "D-2",
             "E-1": "E-1", "E-2": "E-1"}  # the most orders, ties to the oldest sign-up
AUDIT_COLUMNS = ("merged_id", "survivor_id", "merged_at", "reason")
SAME_AS_ANN = ("Z-1", "Ann B.", " ANN@example.COM ", "2025-01-01")  # a new sign-up with a taken address
SOMEONE_NEW = ("N-1", "Nia Novak", "nia@example.com", "2025-01-01")


def person(email) -> str:
    return str(email).strip().lower()


def _rule_survivors(key) -> dict:
    """The survivor of every duplicated account under another rule (to name the rule a wrong answer used)."""
    groups = {}
    for account, (_, email, _, _) in ACCOUNTS.items():
        groups.setdefault(person(email), []).append(account)
    return {account: min(members, key=key) for members in groups.values() if len(members) > 1 for account in members}


OTHER_RULES = {
    "the oldest account (the lesson's rule), not the one with the most orders": _rule_survivors(
        lambda a: ACCOUNTS[a][2]),
    "the newest account": _rule_survivors(lambda a: tuple(-ord(ch) for ch in ACCOUNTS[a][2])),
    "the lowest customer_id, not the account with the most orders": _rule_survivors(lambda a: a),
    "an account without orders as if it had one (count(*) counts the row a LEFT JOIN makes for it; count(o.order_id) "
    "counts 0)": _rule_survivors(lambda a: (-max(ACCOUNTS[a][3], 1), ACCOUNTS[a][2])),
    "the account with the most orders, but a tie goes to the newest; it should go to the oldest (B-7 signed up "
    "before B-2)": _rule_survivors(lambda a: (-ACCOUNTS[a][3], tuple(-ord(ch) for ch in ACCOUNTS[a][2]))),
}


def scratch_shop():
    """A fresh in-memory shop (DDL in its transactions) with :data:`ACCOUNTS`, their orders and two orphan orders."""
    engine = enable_transactional_ddl(make_engine("sqlite:///:memory:"))
    owners = [account for account, (*_, orders) in ACCOUNTS.items() for _ in range(orders)]
    owners += [ORPHAN] * ORPHAN_ORDERS
    with engine.begin() as conn:
        conn.execute(text(CREATE_CUSTOMERS))
        conn.execute(text(CREATE_ORDERS))
        conn.execute(text("INSERT INTO customers VALUES (:id, :name, :email, :day)"),
                     [{"id": account, "name": name, "email": email, "day": day}
                      for account, (name, email, day, _) in ACCOUNTS.items()])
        conn.execute(text("INSERT INTO orders (order_id, customer_id, country, ordered_at, amount) "
                          "VALUES (:order_id, :customer_id, 'DE', '2025-03-01', :amount)"),
                     [{"order_id": f"O-{n:02d}", "customer_id": owner, "amount": amount}
                      for n, (owner, amount) in enumerate(zip(owners, AMOUNTS, strict=True), start=1)])
    return engine


def _person_of(account) -> str:
    """The person (normalised address, as first stored) an account belongs to; an unknown account is its own."""
    return person(ACCOUNTS[account][1]) if account in ACCOUNTS else f"the account {account!r}"


def _listed(accounts) -> str:
    return ", ".join(sorted(accounts))


# --- Exercise 1 ------------------------------------------------------------------------------------------------------

def _rows_of(engine, sql):
    """The learner's query's rows as dicts, or a Verdict saying why there are none."""
    try:
        with engine.connect() as conn:
            result = conn.execute(text(sql))
            if not result.returns_rows:
                return Verdict(False, "that statement returns no rows: write a SELECT that returns customer_id "
                                      "and survivor_id.")
            columns = list(result.keys())
            rows = [dict(row._mapping) for row in result]
    except Exception as error:  # the learner's SQL failing is an answer to explain
        return Verdict(False, f"the query failed: {explain_error(error)}.")
    if not {"customer_id", "survivor_id"} <= set(columns):
        return Verdict(False, f"your query returns the columns {columns}; name them customer_id and survivor_id "
                              "(... AS survivor_id).")
    return rows


def _duplicated_when(grouped_by, accounts=ACCOUNTS) -> set:
    """The accounts that share an address with another when addresses are grouped by ``grouped_by``."""
    groups = Counter(grouped_by(ACCOUNTS[account][1]) for account in accounts)
    return {account for account in accounts if groups[grouped_by(ACCOUNTS[account][1])] > 1}


MISSED_BY = {  # the accounts a query misses, by mistake, and what to say
    "an inner join": (_duplicated_when(person, [a for a in ACCOUNTS if ACCOUNTS[a][3] > 0]),
                      "an inner JOIN with orders drops the accounts without orders (A-3, D-1), and D-2 then looks "
                      "alone: use LEFT JOIN and count(o.order_id), which counts 0 for them"),
    "no trim": (_duplicated_when(str.lower), "some addresses have spaces around them: compare lower(trim(email))"),
    "no lower": (_duplicated_when(str.strip), "some addresses have capitals in them: compare lower(trim(email))"),
}


def _why_missing(missing) -> str:
    for found, hint in MISSED_BY.values():
        if set(missing) == set(SURVIVORS) - found:
            return hint
    return "each shares its address with another account once both are written lower(trim(email))"


def _wrong_survivor(answer: dict) -> str | None:
    wrong = sorted(account for account, survivor in SURVIVORS.items() if answer.get(account) != survivor)
    if not wrong:
        return None
    account = wrong[0]
    expected = SURVIVORS[account]
    said = f"your query says {answer[account]!r}" if answer.get(account) else "your query names none"
    group = [a for a in SURVIVORS if SURVIVORS[a] == expected]
    reason = (f"{expected} has the most orders ({ACCOUNTS[expected][3]})" if Counter(
        ACCOUNTS[a][3] for a in group)[ACCOUNTS[expected][3]] == 1 else
        f"{expected} ties on orders ({ACCOUNTS[expected][3]}) and signed up first ({ACCOUNTS[expected][2]})")
    message = f"the survivor of {_listed(group)} is {expected}: {reason}; for {account} {said}."
    rule = next((name for name, survivors in OTHER_RULES.items()
                 if all(answer.get(a) == survivors[a] for a in SURVIVORS)), None)
    return message + (f" Your query keeps {rule}." if rule else "")


def check_survivor_query(survivors_sql) -> Verdict:
    """Exercise 1: for each duplicated account, the survivor: the most orders, ties to the oldest sign-up."""
    if not isinstance(survivors_sql, str) or not survivors_sql.strip():
        return Verdict(False, "write the query as a string, e.g. \"SELECT customer_id, ... AS survivor_id FROM ...\".")
    rows = _rows_of(scratch_shop(), survivors_sql)
    if isinstance(rows, Verdict):
        return rows
    seen = Counter(row["customer_id"] for row in rows)
    twice = sorted(str(account) for account, times in seen.items() if times > 1)
    if twice:
        return Verdict(False, f"{twice[0]} has {seen[twice[0]]} rows; give one row per account (a join with orders "
                              "gives a row per order: count them with GROUP BY first).")
    answer = {row["customer_id"]: row["survivor_id"] for row in rows}
    strangers = sorted(str(account) for account in answer if account not in SURVIVORS
                       and not (account in ACCOUNTS and answer[account] == account))
    if strangers:
        about = "is no account (it comes from orders)" if strangers[0] == ORPHAN else "shares its address with none"
        return Verdict(False, f"{strangers[0]} {about}; give only the accounts that have duplicates.")
    missing = sorted(set(SURVIVORS) - set(answer))
    if missing:
        return Verdict(False, f"accounts {_listed(missing)} are missing: {_why_missing(missing)}.")
    if problem := _wrong_survivor(answer):
        return Verdict(False, problem)
    return Verdict(True, "A-2 (3 orders) outlives A-1, the oldest; B-7 wins a tie by signing up first; accounts "
                         "without orders count 0.")


# --- Exercise 2 ------------------------------------------------------------------------------------------------------

def _state(engine) -> dict:
    with engine.connect() as conn:
        orders = conn.execute(text("SELECT order_id, customer_id, amount FROM orders ORDER BY order_id")).all()
        customers = dict(conn.execute(text("SELECT customer_id, email FROM customers ORDER BY customer_id")).all())
    return {"orders": orders, "customers": customers}


def _orders_problem(before: dict, after: dict) -> str | None:
    """Orders lost, orphans touched, orders left naming deleted accounts, or orders moved to another person."""
    lost = sorted({o[0] for o in before["orders"]} - {o[0] for o in after["orders"]})
    if lost or len(after["orders"]) != len(before["orders"]):
        orphans = " (orphans: lesson 18 decides what to do with them)" if lost and all(
            customer == ORPHAN for order_id, customer, _ in before["orders"] if order_id in lost) else ""
        return (f"orders held {len(before['orders'])} orders and holds {len(after['orders'])} after your merge "
                f"({_listed(lost) + orphans if lost else 'orders added'}): a merge moves orders, it never deletes "
                "one.")
    was = {order_id: (customer, amount) for order_id, customer, amount in before["orders"]}
    changed = sorted(order_id for order_id, _, amount in after["orders"] if amount != was[order_id][1])
    if changed:
        return f"the amount of {changed[0]} changed: a merge moves orders to another account, it keeps their amounts."
    now = {order_id: customer for order_id, customer, _ in after["orders"]}
    orphans = sorted(order_id for order_id, (customer, _) in was.items() if customer == ORPHAN)
    touched = [order_id for order_id in orphans if now[order_id] != ORPHAN]
    if touched:
        return (f"{touched[0]} named {ORPHAN}, a customer deleted before the merge (an orphan, lesson 18's topic); "
                f"after your merge it names {now[touched[0]]!r}. A merge re-points only the merged accounts' orders.")
    dangling = sorted({customer for customer in now.values() if customer != ORPHAN and customer not in after[
        "customers"]}, key=str)
    if dangling:
        count = sum(customer in dangling for customer in now.values())
        orders = f"{count} orders name" if count > 1 else "1 order names"
        if all(customer in SURVIVORS and SURVIVORS[customer] != customer for customer in dangling):
            still = orders.replace(" name", " still name")
            return (f"{still} {_listed(map(str, dangling))}, accounts your merge deleted: re-point the orders "
                    "before you delete the accounts (from the audit table, which outlives them).")
        return (f"{orders} {_listed(map(str, dangling))}, which your merge deleted though no other account "
                "shared its address.")
    moved = sorted(order_id for order_id, customer in now.items()
                   if was[order_id][0] != ORPHAN and _person_of(was[order_id][0]) != _person_of(customer))
    if moved:
        return (f"{moved[0]} belonged to {_person_of(was[moved[0]][0])} and now to {_person_of(now[moved[0]])}: "
                "re-point an order only to its own person's survivor.")
    return None


def _customers_problem(after: dict) -> str | None:
    kept = after["customers"]
    if "C-1" not in kept:
        return "C-1 is gone, though no other account shares its address: delete only the merged duplicates."
    groups = {}
    for account in SURVIVORS:
        groups.setdefault(SURVIVORS[account], []).append(account)
    for survivor, members in sorted(groups.items()):
        left = [account for account in members if account in kept]
        if len(left) > 1:
            return (f"accounts {_listed(left)} are all still there, though they share an address once it is "
                    "written lower(trim(email)), as the index does: merge by that expression.")
        if not left:
            return f"no account of {person(ACCOUNTS[survivor][1])} is left: keep one, {survivor}."
    answer = {account: next(a for a in members if a in kept) for survivor, members in groups.items()
              for account in members}
    if problem := _wrong_survivor(answer):
        return problem.replace("your query", "your merge").replace("Your query", "Your merge")
    stored = sorted((account, email) for account, email in kept.items() if email != person(email))
    if stored:
        return (f"{stored[0][0]} still stores {stored[0][1]!r}: store the address normalised, "
                "UPDATE customers SET email = lower(trim(email)).")
    return None


def _audit_problem(engine, after: dict) -> str | None:
    inspector = inspect(engine)
    if not inspector.has_table("customer_merges"):
        return "there is no table customer_merges: keep the audit of what was merged, and why."
    columns = [column["name"] for column in inspector.get_columns("customer_merges")]
    missing = [column for column in AUDIT_COLUMNS if column not in columns]
    if missing:
        return f"customer_merges has the columns {columns}; it needs {list(AUDIT_COLUMNS)} (missing: {missing})."
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT merged_id, survivor_id, merged_at, reason FROM customer_merges")).all()
    audit = {row[0]: row[1] for row in rows}
    deleted = {account for account in ACCOUNTS if account not in after["customers"]}
    unexplained = sorted(deleted - set(audit))
    if unexplained:
        return f"the merge deleted {_listed(unexplained)}, but the audit does not say so: one row per merged account."
    wrong = sorted(account for account in audit if account not in deleted or audit[account] != SURVIVORS[account])
    if wrong:
        return (f"the audit says {wrong[0]} became {audit[wrong[0]]!r}; it should record each deleted account and "
                "the survivor its orders went to.")
    blank = [row[0] for row in rows if not str(row[2] or "").strip() or not str(row[3] or "").strip()]
    if blank:
        return f"the audit's row for {blank[0]} has no merged_at or no reason: say when, and why."
    return None


def _sign_up(engine, row) -> str:
    """'accepted', or 'refused: ' and the database's words; rolled back either way."""
    with engine.connect() as conn, conn.begin() as transaction:
        try:
            conn.execute(text("INSERT INTO customers VALUES (:id, :name, :email, :day)"),
                         dict(zip(("id", "name", "email", "day"), row, strict=True)))
            return "accepted"
        except IntegrityError as error:
            return "refused: " + str(error.orig).splitlines()[0]
        finally:
            transaction.rollback()


def _index_problem(engine) -> str | None:
    outcome = _sign_up(engine, SAME_AS_ANN)
    if outcome == "accepted" or "UNIQUE" not in outcome:
        with engine.connect() as conn:
            indexes = conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = "
                                        "'customers' AND sql LIKE '%UNIQUE%' ORDER BY name")).scalars().all()
        have = f"your unique indexes: {indexes}" if indexes else "customers has no unique index"
        return (f"a new sign-up as {SAME_AS_ANN[2]!r}, Ann's address written differently, was {outcome}; "
                f"{have}. Make it UNIQUE on lower(trim(email)).")
    new = _sign_up(engine, SOMEONE_NEW)
    if new != "accepted":
        return f"a sign-up with a new address, {SOMEONE_NEW[2]!r}, was {new}: refuse only an address already taken."
    return None


def check_merge_most_orders(merge_most_orders) -> Verdict:
    """Exercise 2: merge by the most orders (ties to the oldest), with audit, re-pointed orders and the index."""
    if not callable(merge_most_orders):
        return Verdict(False, "define a function `merge_most_orders(conn)` and run its cell first.")
    engine = scratch_shop()
    before = _state(engine)
    try:
        with engine.begin() as conn:
            merge_most_orders(conn)
    except Exception as error:  # the learner's merge failing is an answer to explain
        hint = ""
        if (isinstance(error, DBAPIError) and "UNIQUE constraint failed: index" in str(error.orig)
                and str(error.statement or "").lstrip().upper().startswith("CREATE UNIQUE INDEX")):
            hint = (" The index found addresses still shared once written its way: merge by the same expression "
                    "the index uses. Your whole merge was rolled back with it.")
        return Verdict(False, f"{explain_error(error)}.{hint}")
    gone = [table for table in ("customers", "orders") if not inspect(engine).has_table(table)]
    if gone:
        return Verdict(False, f"after your merge there is no table {gone[0]}: a merge changes rows, it never drops "
                              "a table.")
    try:
        after = _state(engine)
    except DBAPIError as error:  # e.g. a column the merge dropped
        return Verdict(False, f"after your merge, reading the customers and orders failed: {explain_error(error)}.")
    if after == before and not inspect(engine).has_table("customer_merges"):
        return Verdict(False, "your function changed nothing: write the merge's statements into it.")
    for problem in (_orders_problem(before, after), _customers_problem(after), _audit_problem(engine, after),
                    _index_problem(engine)):
        if problem:
            return Verdict(False, problem)
    return Verdict(True, "five accounts merged into four survivors, every order kept with its person, the orphans "
                         "untouched, each merge explained, and the index refuses the address written another way.")
