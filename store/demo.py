"""Loading the demo catalog into an empty store, so a first run shows a working shop."""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store import demo_data
from store.models import Category, Product, Seller, Variant, utcnow
from store.services import deals, digital
from store.services.catalog import bump_catalog_version
from store.states import Approval, ProductKind, ProductStatus

logger = logging.getLogger(__name__)


async def load_demo_catalog(session: AsyncSession) -> bool:
    """Load the demo sellers, categories and products when the store has no seller yet.

    Returns True when the catalog was loaded, False when the store already had one.
    """
    if await session.scalar(select(func.count(Seller.id))):
        return False
    version = await bump_catalog_version(session)
    sellers = {s["key"]: Seller(name=s["name"], kind=s["kind"], status=Approval.APPROVED,
                                commission_bp=s["commission_bp"]) for s in demo_data.SELLERS}
    categories = {name: Category(name=name, position=i) for i, name in enumerate(demo_data.CATEGORIES)}
    session.add_all([*sellers.values(), *categories.values()])
    await session.flush()
    for item in demo_data.PRODUCTS:
        seller = sellers[item["seller"]]
        product = Product(
            seller_id=seller.id,
            category_id=categories[item["category"]].id,
            title=item["title"],
            brand=item.get("brand"),
            description=item.get("description", ""),
            photo=item.get("photo"),
            kind=item.get("kind", ProductKind.PHYSICAL),
            status=ProductStatus.ACTIVE,
            catalog_version=version,
        )
        session.add(product)
        await session.flush()
        variants = [Variant(product_id=product.id, seller_id=seller.id, sku=v["sku"], label=v["label"],
                            price=v["price"], stock=v.get("stock", 0), position=i, delivery=v.get("delivery"),
                            content=v.get("content"), content_type=v.get("content_type"))
                    for i, v in enumerate(item["variants"])]
        session.add_all(variants)
        await session.flush()
        # The price history a flash deal is measured against starts with the first prices.
        await deals.record_prices(session, {variant.id: variant.price for variant in variants}, utcnow())
        for variant, v in zip(variants, item["variants"], strict=True):
            if "codes" in v:  # a pool of codes: its stock is the codes added
                await digital.add_codes(session, variant.id, v["codes"])
    await session.flush()
    logger.info("demo catalog loaded: %d sellers, %d products", len(sellers), len(demo_data.PRODUCTS))
    return True
