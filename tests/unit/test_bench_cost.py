"""The cost benchmark's arithmetic: item sizes as DynamoDB bills them, and the one price table."""

from __future__ import annotations

import re
from collections import Counter

from bench.bench_cost import COUNTED, item_size, load_prices, usd


def test_item_sizes_follow_dynamodbs_rules() -> None:
    # Given items of each kind of attribute value
    # Then a string counts its UTF-8 bytes and the attribute name its own
    assert item_size({"pk": {"S": "abc"}}) == 2 + 3
    assert item_size({"t": {"S": "é"}}) == 1 + 2
    # And a number one byte per two significant digits, plus one (leading/trailing zeroes trimmed)
    assert item_size({"n": {"N": "12345"}}) == 1 + 3 + 1
    assert item_size({"n": {"N": "1000"}}) == 1 + 1 + 1
    # And a map 3 bytes plus one per member, with its members' names and values
    assert item_size({"m": {"M": {"a": {"S": "xy"}, "b": {"BOOL": True}}}}) == 1 + 3 + (1 + 1 + 2) + (
        1 + 1 + 1
    )
    # And a list 3 bytes plus one per element
    assert item_size({"l": {"L": [{"S": "ab"}, {"NULL": True}]}}) == 1 + 3 + (1 + 2) + (1 + 1)


def test_every_price_is_dated_and_sourced_and_every_counted_unit_is_priced() -> None:
    # Given the price table
    table = load_prices()
    # Then each price is positive, dated and read from an AWS pricing page
    for name, price in table["prices"].items():
        assert price["usd"] > 0, name
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", price["date"]), name
        assert price["source"].startswith("https://aws.amazon.com/"), name
    # And one of every unit the benchmark counts is priced from the table (a missing price: KeyError)
    counted = Counter(dict.fromkeys(COUNTED, 1))
    lines = usd(counted, table)
    assert all(amount > 0 for amount in lines.values()), lines


def test_a_write_is_billed_on_its_larger_size_and_an_index_key_change_twice() -> None:
    from bench.bench_cost import Index, Meter

    # Given a table with one GSI (gsi1pk, gsi1sk) projecting ALL, as the main table's due index
    meter = Meter.__new__(Meter)
    meter.keys = {"main": ["pk", "sk"]}
    meter.indexes = {"main": [Index(("gsi1pk", "gsi1sk"))]}
    small = {"pk": {"S": "WS#1"}, "sk": {"S": "T#1"}}
    due = {**small, "gsi1pk": {"S": "DUE#10:00"}, "gsi1sk": {"S": "a"}}
    queued = {**small, "gsi1pk": {"S": "QUEUED#10:00"}, "gsi1sk": {"S": "a"}}
    big = {**due, "text": {"S": "x" * 1500}}
    # Then a new item outside the index is 1 unit, and 1 more when the index holds it
    assert meter.write_units("main", None, small) == 1
    assert meter.write_units("main", None, due) == 2
    # And an update that keeps the index key writes the entry once; one that changes it, twice
    assert meter.write_units("main", due, {**due, "state": {"S": "x"}}) == 2
    assert meter.write_units("main", due, queued) == 3
    # And an item leaving the index deletes its entry (1), a delete of an absent item still costs 1
    assert meter.write_units("main", queued, small) == 2
    assert meter.write_units("main", None, None) == 1
    # And the larger of the sizes before and after is billed (2 KB before, 1 KB after)
    assert meter.write_units("main", big, due) == 2 + 2


def test_a_keys_only_index_is_written_only_when_its_key_appears_changes_or_disappears() -> None:
    from bench.bench_cost import Index, Meter

    # Given the main table's gsi3 (KEYS_ONLY) and an INCLUDE index of `state`
    meter = Meter.__new__(Meter)
    meter.keys = {"main": ["pk", "sk"]}
    meter.indexes = {
        "main": [Index(("gsi3pk", "gsi3sk"), "KEYS_ONLY"), Index(("ipk",), "INCLUDE", ("state",))]
    }
    small = {"pk": {"S": "WS#1"}, "sk": {"S": "T#1"}, "text": {"S": "x" * 1500}}
    due = {**small, "gsi3pk": {"S": "DUE#10:00"}, "gsi3sk": {"S": "a"}, "state": {"S": "scheduled"}}
    # Then an update of other attributes costs the KEYS_ONLY index nothing (the table's 2 KB item: 2)
    assert meter.write_units("main", due, {**due, "state": {"S": "publishing"}}) == 2
    # And its entry, when written, is the size of its keys (1 unit), not of the item
    assert meter.write_units("main", None, due) == 2 + 1
    assert meter.write_units("main", due, {**due, "gsi3pk": {"S": "DUE#10:05"}}) == 2 + 2
    assert meter.write_units("main", due, small | {"state": {"S": "cancelled"}}) == 2 + 1
    # And an INCLUDE entry is written when its projected attribute changes, not otherwise
    included = {**due, "ipk": {"S": "x"}}
    assert meter.write_units("main", included, {**included, "state": {"S": "publishing"}}) == 2 + 1
    assert meter.write_units("main", included, {**included, "text": {"S": "y"}}) == 2
