"""Campaigns: posts grouped with dates, a goal, a budget and a conversion value (:mod:`.service`), the
conversions that arrive for them (authenticated or through a signed pixel URL) and their report
(:mod:`.report`)."""
