"""Staged league -> live tables, in ONE transaction (design.md invariants 2 and 3): reference
upserts by natural key, fact replacement as a row diff, deactivations, carried links and league
contexts. `league.publish_league` is the entry point; `report.PublishReport` what it returns."""
