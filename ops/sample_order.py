"""Send the sample Shopify order (examples/shopify-order.json), signed, with a fresh id, and follow it.

    .venv/bin/python -m ops.sample_order [--api http://localhost:8000]

Needs stock for its SKUs: start the engine with OMS_DEMO=1 (or add stock through the API).
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from pathlib import Path

import httpx

from config import PROJECT_ROOT, get_settings
from integrations.channels.shopify import sign


def main() -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api", default=f"http://localhost:{settings.api_port}")
    parser.add_argument("--file", default=str(PROJECT_ROOT / "examples" / "shopify-order.json"))
    args = parser.parse_args()
    payload = json.loads(Path(args.file).read_text(encoding="utf-8"))
    payload["id"] = int(time.time() * 1000)
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Hmac-Sha256": sign(settings.shopify_webhook_secret, body),
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Shop-Domain": "sample.myshopify.com",
    }
    with httpx.Client(base_url=args.api, timeout=15) as client:
        response = client.post("/webhooks/shopify", content=body, headers=headers)
        print(f"POST /webhooks/shopify → {response.status_code} {response.text}")
        if response.status_code != 202:
            return 1
        order_id = response.json()["order_id"]
        staff = {"Authorization": f"Bearer {settings.admin_token}"}
        seen = None
        for _ in range(60):
            order = client.get(f"/orders/{order_id}", headers=staff)
            status = order.json().get("status") if order.status_code == 200 else None
            if status != seen and status is not None:
                print(f"{order_id}: {status}" + (f" ({order.json()['hold_reason']})" if status == "ON_HOLD" else ""))
                seen = status
            if status in ("SHIPPED", "COMPLETED", "CANCELLED", "ON_HOLD", "BACKORDERED"):
                break
            time.sleep(0.5)
        print(
            f"details: {args.api}/orders/{order_id} (staff token), Temporal UI: {settings.temporal_ui_url}"
            f"/namespaces/{settings.temporal_namespace}/workflows/{order_id}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
