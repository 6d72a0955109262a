"""Earnings in the chat: /earnings for creators, /creator_sales for sellers."""

from __future__ import annotations

from html import escape

from telegram import Update

from handlers.common import lang, reply
from handlers.context import ShopContext
from handlers.render import ITEM_TITLE_MAX, money, short
from store.services.creators import creator_of_user
from store.services.earnings import (
    CreatorSales,
    Dashboard,
    LinkStats,
    PeriodStats,
    creator_dashboard,
    seller_creator_sales,
)
from store.services.sellers import seller_of_user
from store.states import Approval

# A Telegram message holds at most 4096 characters: long lists are cut.
LINKS_SHOWN = 10
SELLER_ROWS_SHOWN = 15

NOT_A_CREATOR = "📈 /earnings is for creators. To share products and earn a commission on what you sell, send /creator."
CREATOR_PENDING = "📈 Your creator application is still with an operator; your earnings will show here once approved."
NOT_A_SELLER = "📊 /creator_sales is for sellers. To open a shop, send /sell."
NO_CREATOR_SALES = ("📊 <b>Sales through creators</b>\nNothing yet. When a shopper buys your products through a "
                    "creator's link, the sales and the commission owed show here.")


def _count(number: int, word: str) -> str:
    return f"{number} {word}" if number == 1 else f"{number} {word}s"


def _period_title(period: PeriodStats) -> str:
    return "All time" if period.days is None else f"Last {period.days} days"


def _period(period: PeriodStats, currency: str, language: str | None) -> str:
    return (f"<b>{_period_title(period)}</b>\n"
            f"👆 {_count(period.clicks, 'click')} · 🧾 {_count(period.orders, 'order')} · "
            f"📦 {_count(period.items, 'item')} · sales {money(period.sales, currency, language)}\n"
            f"💰 pending {money(period.pending, currency, language)} · "
            f"approved {money(period.approved, currency, language)} · "
            f"reversed {money(period.reversed, currency, language)}")


def _link(link: LinkStats, currency: str, language: str | None) -> str:
    name = "🛍 Your showcase" if link.is_showcase else escape(short(link.title or f"Product {link.product_id}",
                                                                     ITEM_TITLE_MAX))
    return (f"• {name} — {_count(link.clicks, 'click')}, {_count(link.orders, 'order')}, "
            f"{money(link.sales, currency, language)} sales, {money(link.commission, currency, language)}")


def earnings_text(dashboard: Dashboard, currency: str, language: str | None) -> str:
    """The /earnings message: periods, top products and the per-link breakdown."""
    parts = [f"📈 <b>Your earnings</b> · code <code>{escape(dashboard.code)}</code>"]
    parts += [_period(period, currency, language) for period in dashboard.periods]
    if dashboard.top_products:
        lines = ["🏆 <b>Top products</b>"]
        lines += [f"{number}. {escape(short(product.title, ITEM_TITLE_MAX))} — {_count(product.items, 'item')}, "
                  f"{money(product.sales, currency, language)} sales, "
                  f"{money(product.commission, currency, language)} commission"
                  for number, product in enumerate(dashboard.top_products, 1)]
        parts.append("\n".join(lines))
    lines = ["🔗 <b>Your links</b> (clicks, orders, sales, commission)"]
    lines += [_link(link, currency, language) for link in dashboard.links[:LINKS_SHOWN]]
    if len(dashboard.links) > LINKS_SHOWN:
        lines.append(f"… and {_count(len(dashboard.links) - LINKS_SHOWN, 'more link')}")
    parts.append("\n".join(lines))
    parts.append("<i>Commission is pending until the order is delivered and the return window has passed; "
                 "then it is approved (the figure includes what was paid out already). Cancelled or refunded "
                 "orders reverse it.</i>")
    return "\n\n".join(parts)


def creator_sales_text(shop_name: str, rows: list[CreatorSales], language: str | None) -> str:
    """The /creator_sales message: per product, what creators sold and the commission owed."""
    if not rows:
        return NO_CREATOR_SALES
    lines = [f"📊 <b>Sales through creators</b> · {escape(shop_name)}", ""]
    lines += [f"{number}. <b>{escape(short(row.title, ITEM_TITLE_MAX))}</b> — {_count(row.orders, 'order')}, "
              f"{_count(row.items, 'item')}, "
              f"{money(row.sales, row.currency, language)} sales, "
              f"{money(row.commission, row.currency, language)} commission owed"
              for number, row in enumerate(rows[:SELLER_ROWS_SHOWN], 1)]
    if len(rows) > SELLER_ROWS_SHOWN:
        lines.append(f"… and {_count(len(rows) - SELLER_ROWS_SHOWN, 'more product')}")
    totals: dict[str, tuple[int, int]] = {}
    for row in rows:
        sales, commission = totals.get(row.currency, (0, 0))
        totals[row.currency] = (sales + row.sales, commission + row.commission)
    lines.append("")
    lines += [f"<b>Total</b>: {money(sales, currency, language)} sales, "
              f"{money(commission, currency, language)} commission owed" for currency, (sales, commission) in
              sorted(totals.items())]
    lines.append("<i>Reversed commission (cancelled or refunded orders) is not counted.</i>")
    return "\n".join(lines)


async def on_earnings(update: Update, context: ShopContext) -> None:
    """/earnings: a creator's clicks, sales and commission; others are pointed to /creator."""
    shop = context.shop
    async with shop.db.read() as session:
        creator = await creator_of_user(session, update.effective_user.id, approved_only=False)
        approved = creator is not None and creator.status == Approval.APPROVED
        dashboard = (await creator_dashboard(session, creator.id, shop.clock(), currency=shop.options.currency)
                     if approved else None)
    if dashboard is None:
        pending = creator is not None and creator.status == Approval.PENDING
        await reply(update, CREATOR_PENDING if pending else NOT_A_CREATOR)
        return
    await reply(update, earnings_text(dashboard, shop.options.currency, lang(update)))


async def on_creator_sales(update: Update, context: ShopContext) -> None:
    """/creator_sales: an approved seller's products sold through creators; others get a pointer to /sell."""
    async with context.shop.db.read() as session:
        seller = await seller_of_user(session, update.effective_user.id)
        rows = await seller_creator_sales(session, seller.id) if seller is not None else []
    if seller is None:
        await reply(update, NOT_A_SELLER)
        return
    await reply(update, creator_sales_text(seller.name, rows, lang(update)))
