"""Region settings: who the region is, who decides, where letters are signed (``--settings FILE``).

Everything that differs between one regional government and the next lives in one YAML
or JSON file, so nothing about a particular city is written in code: the region's name,
the title of its head (Wali Kota, Bupati), the place letters are signed, the HR office
(BKPSDM) and its letterhead, the signatory of notices, the letter's Nomor / Sifat / Hal,
the objection period, and optionally a Word template of the notice. The JSON Schema is
published (``mutasi-rules schema settings``, ``docs/schemas/settings.schema.json``).

Without a settings file, letters and reports use neutral words (``Kepala Daerah``,
``BKPSDM``) and leave the place as dots to fill in by hand.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from mutasi_rules.problems import InputError, Problem

__all__ = ["RegionSettings", "load_settings"]

MAX_SETTINGS_CHARS = 200_000


class Signatory(BaseModel):
    """Who signs the notices (usually the head of BKPSDM)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(default="Kepala BKPSDM", min_length=1, description="e.g. 'Kepala BKPSDM Kota X'")
    name: str = Field(default="", description="Blank: a line to sign and write the name by hand")
    rank: str = Field(default="", description="Pangkat/golongan, e.g. 'Pembina Utama Muda (IV/c)'")
    nip: str = Field(default="", description="The signatory's NIP as printed")


class RegionSettings(BaseModel):
    """One regional government's settings for letters and reports."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    region_name: str = Field(default="Pemerintah Daerah", min_length=1,
                             description="The government as named in a letterhead, e.g. 'Pemerintah Kota X'")
    head_title: str = Field(default="Kepala Daerah", min_length=1,
                            description="Title of the head of the region who decides (the PPK), e.g. "
                                        "'Wali Kota X' or 'Bupati Y'")
    place: str = Field(default="..........", min_length=1, description="Place written before the letter date")
    hr_office: str = Field(default="BKPSDM", min_length=1,
                           description="The HR agency that proposes transfers, e.g. 'BKPSDM Kota X'")
    hr_office_full_name: str = Field(default="Badan Kepegawaian dan Pengembangan Sumber Daya Manusia",
                                     description="Its full name for the letterhead")
    hr_office_address: str = Field(default="", description="Address line of the letterhead")
    hr_office_contact: str = Field(default="", description="Telephone, e-mail or web line of the letterhead")
    objection_contact: str = Field(default="", description="Office employees turn to with an objection; "
                                   "blank: the HR office (a plugin's notice_contact answers first for its units)")
    objection_days: int = Field(default=14, ge=1, le=365, description="Days to raise an objection after receipt")
    letter_number: str = Field(default="800.1.3/......./BKPSDM",
                               description="Nomor of the notice; dots are filled in by hand")
    letter_nature: str = Field(default="Penting", description="Sifat of the notice: Biasa, Penting, Segera, Rahasia")
    letter_subject: str = Field(default="Pemberitahuan Rencana Mutasi", description="Hal of the notice")
    signatory: Signatory = Field(default_factory=Signatory)
    copies_to: list[str] = Field(default_factory=list, description="Tembusan: offices receiving a copy")
    notice_template: str | None = Field(default=None,
                                        description="A .docx notice template (docxtpl); relative to this file. "
                                                    "Default: the template shipped with the library")
    _source: str | None = PrivateAttr(default=None)  # the file these settings came from

    def template_path(self) -> Path | None:
        """The notice template named by the settings, resolved against the settings file."""
        if self.notice_template is None:
            return None
        path = Path(self.notice_template)
        if not path.is_absolute() and self._source:
            path = Path(self._source).parent / path
        return path


def load_settings(path: str | os.PathLike[str]) -> RegionSettings:
    """Read a settings file (.yaml, .yml or .json); raise :class:`InputError` naming every problem."""
    file = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"settings {file}", [Problem(code="file.unreadable", message=f"cannot read: {exc}",
                                                       file=file)]) from None
    if len(text) > MAX_SETTINGS_CHARS:
        raise InputError(f"settings {file}", [Problem(code="file.too_large", file=file,
                                                       message=f"a settings file has at most {MAX_SETTINGS_CHARS} "
                                                               "characters")])
    try:
        if file.lower().endswith(".json"):
            data = json.loads(text)
        else:
            # Settings never need YAML aliases; refusing them keeps an alias bomb from expanding.
            if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=yaml.CSafeLoader)):
                raise InputError(f"settings {file}", [Problem(code="file.syntax", file=file,
                                                               message="YAML aliases (*name) are not allowed here")])
            data = yaml.load(text, Loader=yaml.CSafeLoader)
    except (json.JSONDecodeError, yaml.YAMLError, RecursionError) as exc:
        raise InputError(f"settings {file}", [Problem(code="file.syntax", message=f"invalid file: {exc}",
                                                       file=file)]) from None
    if not isinstance(data, dict):
        raise InputError(f"settings {file}", [Problem(code="file.structure", message="settings must be a mapping",
                                                       file=file)])
    try:
        settings = RegionSettings.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(code="settings.invalid", message=err["msg"], file=file,
                    field=".".join(str(p) for p in err["loc"]) or None,
                    value=err.get("input") if isinstance(err.get("input"), (str, int, float, bool)) else None)
            for err in exc.errors(include_url=False)
        ]
        raise InputError(f"settings {file}", problems) from None
    settings._source = file
    template = settings.template_path()
    if template is not None and not template.is_file():
        raise InputError(f"settings {file}", [Problem(code="settings.notice_template", file=file,
                                                       field="notice_template", value=settings.notice_template,
                                                       message=f"no such file: {settings.template_path()}")])
    return settings
