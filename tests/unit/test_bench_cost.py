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
