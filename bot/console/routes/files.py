"""Round trips with Poedit, Weblate and spreadsheets: export the catalog, import a file."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.console.accounts import Account
from bot.console.deps import ConsoleDep, checked, signed_in
from bot.console.drafts import cells, diff, overlay
from bot.console.files import from_csv, from_po, to_csv, to_po, to_xlsx
from bot.console.routes import page
from bot.errors import ImportFileError

router = APIRouter()


@router.get("/export/{name}")
async def export(console: ConsoleDep, name: str, account: Account = Depends(signed_in)) -> Response:
    # What would be published with the drafts: the English an upload is checked against,
    # and the Spanish marked for review where that English changed since it was written.
    candidate = (await console.versions.for_review()).data
    if name == "catalog.csv":
        return Response(
            to_csv(console.structure, candidate),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="catalog.csv"'},
        )
    if name == "catalog.xlsx":
        return Response(
            to_xlsx(console.structure, candidate),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": 'attachment; filename="catalog.xlsx"'},
        )
    if name == "es.po":
        return Response(
            to_po(candidate, "es"),
            media_type="text/x-gettext-translation; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="es.po"'},
        )
    raise HTTPException(404, "export es.po, catalog.csv or catalog.xlsx")


@router.post("/import", response_class=HTMLResponse)
async def import_file(
    console: ConsoleDep,
    request: Request,
    upload: UploadFile = File(...),
    account: Account = Depends(checked),
) -> HTMLResponse:
    found = await console.versions.for_review()
    published, candidate = found.published, found.data
    raw = await upload.read()
    try:
        if (upload.filename or "").lower().endswith((".csv", ".xlsx", ".txt")):
            imported, kept = from_csv(candidate, published, raw)
        else:
            imported, kept = from_po(candidate, published, raw, "es")
    except ImportFileError as exc:
        return page(request, "staff/import.html", account, error=str(exc), changes=[], kept=[])
    changes = diff(candidate, imported)
    # Only the texts that differ wait for the yes: a draft saved meanwhile stays.
    token = await console.versions.stash(cells(imported, changes))
    return page(
        request,
        "staff/import.html",
        account,
        error="",
        changes=changes,
        kept=kept,
        token=token,
    )


@router.post("/import/confirm")
async def import_confirm(
    console: ConsoleDep, request: Request, account: Account = Depends(checked)
) -> Response:
    form = await request.form()
    uploaded = await console.versions.unstash(str(form.get("token", "")))
    if uploaded is None:
        raise HTTPException(400, "nothing to import: upload the file again")
    candidate = (await console.versions.for_review()).data
    imported = overlay(candidate, uploaded)
    for change in diff(candidate, imported):
        if change.language == "en":
            text, source = imported.english[change.key], None
        else:
            entry = imported.translations[change.language][change.key]
            text, source = entry.text, entry.source
        await console.versions.save_text(change.language, change.key, text, account.name, source)
    await console.versions.audit(account.name, "import", "")
    return RedirectResponse("/staff/review", status_code=303)
