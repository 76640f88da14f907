"""The console's pages, one module per area: auth, catalog (edit and preview), review (publish,
history, restore), files (export and import) and sources (sources and clinical sign-off).
Handlers are module-level functions; the Console reaches them through `deps.get_console`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from bot.console.accounts import Account
from bot.console.deps import page_csrf

templates = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))


def page(
    request: Request, name: str, account: Account | None, status: int = 200, **context: Any
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        name,
        {
            "account": account,
            "csrf": page_csrf(request),
            "callbacks_on": request.app.state.console.bot.callbacks is not None,
            **context,
        },
        status_code=status,
    )
