"""The numbers the shop's rules run on, where more than one module needs them: each defined once.

Limits that only one module checks (a title's length, a cart's size) stay
beside the check; these are read by the store, the chat and the settings.
"""

from __future__ import annotations

from datetime import timedelta

# Sellers hear about a variant whose stock falls to this or below, and shoppers
# read "only N left" on a card at the same level (LOW_STOCK_THRESHOLD overrides it).
LOW_STOCK_THRESHOLD = 3
# The most Telegram Stars one invoice may ask for (Telegram's limit).
STARS_INVOICE_MAX = 10_000
# Stars asked per unit of the shop currency (STARS_PER_UNIT overrides it).
STARS_PER_UNIT = 50
# How long an unpaid checkout holds its stock (CHECKOUT_EXPIRY_MINUTES overrides it).
CHECKOUT_EXPIRY = timedelta(minutes=30)
# After a successful pre-checkout answer, the buyer has this long to finish
# paying even if the checkout would otherwise expire meanwhile.
PAYMENT_GRACE = timedelta(minutes=5)
# A dialogue (a checkout, a product being added) left alone this long no longer
# captures what the person types.
STEP_EXPIRY = timedelta(hours=24)
# A delivered order's buyer is asked to rate what they bought this long after delivery (REVIEW_ASK_HOURS
# overrides it); orders delivered longer ago than REVIEW_ASK_WITHIN are never asked.
REVIEW_ASK_DELAY = timedelta(days=1)
REVIEW_ASK_WITHIN = timedelta(days=30)
# A seller promises to ship a paid (or cash-on-delivery) physical order within this many days: the seller
# score's "shipped on time" counts against it (store/services/reviews.py).
PROMISED_SHIP_DAYS = 2
