"""Spreadsheets as Excel and other programs save them, and typed texts made into stored form."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook

from bot.console.spreadsheets import (
    EXCEL_ADVICE,
    UnreadableSpreadsheet,
    decode_text,
    read_table,
    sniff_delimiter,
    xlsx_bytes,
)
from bot.console.text_input import normalize_text, normalize_words, same_text

FEVER_ES = "Llame si tiene:\n- fiebre de 38 °C (100.4 °F) o más\n- diarrea\nEnvíe MÁS"
HEADER = ["id", "where", "english", "spanish", "spanish_needs_review"]
ROW = ["topic.side_effects.signs_more", "Side effects, page 4", "Call if you have:", FEVER_ES, ""]


def excel_csv(rows: list[list[str]], encoding: str, delimiter: str = ",") -> bytes:
    """A CSV the way Excel writes it: CRLF line ends, quotes where needed, its code page."""
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    text = out.getvalue()
    return ("\ufeff" + text).encode("utf-8") if encoding == "utf-8-sig" else text.encode(encoding)


class TestNormalizeText:
    @pytest.mark.parametrize(
        ("typed", "stored"),
        [
            pytest.param("a\r\nb\r\n", "a\nb", id="textarea-crlf"),
            pytest.param("a\rb", "a\nb", id="old-mac-cr"),
            pytest.param("a  \nb\t\n\n", "a\nb", id="trailing-spaces-and-blank-lines"),
            pytest.param("\n\n  a\n  b", "a\n  b", id="leading-blank-lines-keep-inner-indent"),
            pytest.param("ma\u0301s", "más", id="combining-accent-to-nfc"),
            pytest.param("\ufeffhola\u200b", "hola", id="bom-and-zero-width-space"),
            pytest.param("a\u2028b", "a\nb", id="unicode-line-separator"),
            pytest.param("a\u00a0\nb", "a\nb", id="no-break-space-at-line-end"),
            pytest.param("", "", id="empty"),
        ],
    )
    def test_typed_text_becomes_the_stored_form(self, typed: str, stored: str) -> None:
        assert normalize_text(typed) == stored

    def test_normalizing_twice_changes_nothing(self) -> None:
        once = normalize_text(" x \r\n\r\n y\u0301 \r\n")
        assert normalize_text(once) == once

    def test_an_untouched_textarea_is_the_same_text(self) -> None:
        assert same_text(FEVER_ES.replace("\n", "\r\n") + "\r\n", FEVER_ES)
        assert not same_text(FEVER_ES + " más", FEVER_ES)

    def test_inner_spaces_and_emoji_joiners_stay(self) -> None:
        family = "\U0001f468\u200d\U0001f469"
        assert normalize_text(f"a  b {family}") == f"a  b {family}"

    def test_keyword_lines(self) -> None:
        assert normalize_words("fiebre\r\n  fiebre \r\n\r\nsarpullido  rojo\r\n") == [
            "fiebre",
            "sarpullido rojo",
        ]


class TestReadCsv:
    @pytest.mark.parametrize(
        ("encoding", "delimiter"),
        [
            pytest.param("utf-8", ",", id="utf-8"),
            pytest.param("utf-8-sig", ",", id="excel-csv-utf-8"),
            pytest.param("cp1252", ",", id="excel-windows-comma"),
            pytest.param("cp1252", ";", id="excel-windows-spanish-settings"),
            pytest.param("latin-1", ";", id="latin-1-semicolon"),
            pytest.param("mac_roman", ",", id="excel-old-mac"),
            pytest.param("utf-8", "\t", id="tab-separated"),
        ],
    )
    def test_excel_files_read_back_the_same_texts(self, encoding: str, delimiter: str) -> None:
        raw = excel_csv([HEADER, ROW], encoding, delimiter)
        table = read_table(raw, required=("id", "english", "spanish"))
        assert table.rows == [dict(zip(HEADER, ROW, strict=True))]
        assert table.delimiter == delimiter
        assert table.rows[0]["spanish"] == FEVER_ES  # LF only, accents right

    def test_the_encoding_read_is_reported(self) -> None:
        assert decode_text(FEVER_ES.encode("cp1252"))[1] in ("cp1252", "latin_1")
        assert decode_text("más".encode("cp1252") * 20) == ("más" * 20, "cp1252")
        assert decode_text("\ufeffmás".encode())[0] == "más"

    def test_excel_sep_line_is_honoured(self) -> None:
        raw = b"sep=;\r\n" + excel_csv([HEADER, ROW], "cp1252", ";")
        table = read_table(raw, required=("id",))
        assert table.rows[0]["id"] == ROW[0]

    def test_headers_are_read_in_any_case(self) -> None:
        raw = excel_csv([[name.upper() for name in HEADER], ROW], "utf-8")
        assert read_table(raw, required=("id", "english")).rows[0]["english"] == ROW[2]

    def test_blank_rows_excel_leaves_at_the_end_are_ignored(self) -> None:
        raw = excel_csv([HEADER, ROW, ["", "", "", "", ""], [""] * 5], "cp1252", ";")
        assert len(read_table(raw).rows) == 1

    def test_a_one_column_header_uses_the_sniffer(self) -> None:
        assert sniff_delimiter("id\nx\n") == ","
        assert sniff_delimiter('"a";"b"\n"1";"2"\n') == ";"


class TestWhatANurseIsToldWhenAFileCannotBeRead:
    @pytest.mark.parametrize(
        "raw",
        [
            pytest.param(b"", id="empty"),
            pytest.param("id,english\n".encode("utf-16"), id="utf-16"),
            pytest.param(b"\x00\x01\x02garbage", id="binary"),
            pytest.param(b"PK\x03\x04not really a zip", id="broken-xlsx"),
        ],
    )
    def test_the_error_says_what_to_do_in_excel(self, raw: bytes) -> None:
        with pytest.raises(UnreadableSpreadsheet) as caught:
            read_table(raw, required=("id", "english", "spanish"))
        assert EXCEL_ADVICE in str(caught.value)
        assert "codec" not in str(caught.value)

    def test_missing_columns_are_named(self) -> None:
        raw = excel_csv([["key", "english"], ["a", "b"]], "utf-8")
        with pytest.raises(UnreadableSpreadsheet, match="found: key, english") as caught:
            read_table(raw, required=("id", "english", "spanish"))
        assert "id, english, spanish" in str(caught.value)


class TestXlsx:
    def test_round_trip_keeps_multi_line_texts_and_accents(self) -> None:
        raw = xlsx_bytes("catalog", HEADER, [ROW])
        table = read_table(raw, required=("id", "english", "spanish"))
        assert table.encoding == "xlsx"
        assert table.rows == [dict(zip(HEADER, ROW, strict=True))]

    def test_a_text_that_looks_like_a_formula_stays_a_text(self) -> None:
        raw = xlsx_bytes("catalog", ["id", "english"], [["x", "=HYPERLINK(1)"]])
        sheet = load_workbook(io.BytesIO(raw)).worksheets[0]
        assert sheet["B2"].data_type == "s" and sheet["B2"].value == "=HYPERLINK(1)"
        assert read_table(raw).rows[0]["english"] == "=HYPERLINK(1)"

    def test_a_workbook_saved_by_excel_with_crlf_and_empty_cells(self) -> None:
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(["ID", "English", "Spanish"])
        sheet.append(["reply.help", "Text MENU\r\nany time", None])
        sheet.append([None, None, None])
        out = io.BytesIO()
        book.save(out)
        table = read_table(out.getvalue(), required=("id", "english", "spanish"))
        assert table.rows == [{"id": "reply.help", "english": "Text MENU\nany time", "spanish": ""}]

    def test_header_is_bold_and_stays_on_screen(self) -> None:
        sheet = load_workbook(io.BytesIO(xlsx_bytes("c", HEADER, [ROW]))).worksheets[0]
        assert sheet["A1"].font.bold and sheet.freeze_panes == "A2"
