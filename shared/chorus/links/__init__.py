"""Links that measure themselves: UTM tagging (:mod:`.utm`), short links created per post x account at
publish time and the counted redirect behind ``GET /l/{code}`` (:mod:`.service`, :mod:`.store`), and the
bot / referrer / country reading of a click (:mod:`.clicks`)."""
