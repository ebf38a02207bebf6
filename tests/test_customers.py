"""The customers data set: the file equals its generator and has exactly the flaws the lessons on constraints use."""

import csv
from collections import Counter

from sqlalchemy import text

from coursekit.customers import CUSTOMERS_CSV, generate_customers, load_customers, read_customers_csv
from coursekit.dataset import read_orders_csv
from coursekit.db import make_engine


def test_the_file_is_the_generators_output():
    assert read_customers_csv() == generate_customers()


def test_the_same_seed_gives_the_same_customers_and_another_seed_others():
    assert generate_customers(7) == generate_customers(7) != generate_customers(8)


def test_three_deleted_customers_leave_orders_without_a_customer():
    known = {row[0] for row in read_customers_csv()}
    named = {order[1] for order in read_orders_csv()}
    assert len(named) == 125 and len(named - known) == 3 and known <= named
    assert sum(order[1] not in known for order in read_orders_csv()) == 26


def test_six_people_have_thirteen_accounts_under_addresses_written_differently():
    customers = read_customers_csv()
    people = Counter(email.strip().lower() for _, _, email, _ in customers)
    assert sorted(n for n in people.values() if n > 1) == [2, 2, 2, 2, 2, 3]
    assert len({email for _, _, email, _ in customers}) == len(customers)  # unique as stored


def test_a_second_account_signed_up_later_under_the_same_name():
    first = {}
    for customer_id, name, email, signed_up_at in read_customers_csv():
        person = email.strip().lower()
        if person in first:
            assert first[person][1] == name and first[person][2] <= signed_up_at and first[person][0] < customer_id
        else:
            first[person] = (customer_id, name, signed_up_at)


def test_the_loader_keeps_addresses_exactly_as_stored():
    with make_engine().begin() as conn:
        assert load_customers(conn) == 122
        stored = conn.execute(text("SELECT email FROM customers WHERE customer_id = 'C-000052'")).scalar_one()
    with open(CUSTOMERS_CSV, newline="", encoding="utf-8") as handle:
        assert stored == next(row["email"] for row in csv.DictReader(handle) if row["customer_id"] == "C-000052")
    assert stored.startswith(" ") and stored.endswith(" ")
