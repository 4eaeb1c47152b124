"""Label Studio labeling configs: chitieu's own, and how a project's config maps onto it.

Label Studio sends a project's config (XML) to the ML backend, as `schema` to /setup and
as `label_config` to /predict. chitieu predicts spans of four labels in one text field, so
it can serve a project that has a `<Labels>` control on a `<Text>` object reading a task
field (`value="$content"`), at least one of whose `<Label>`s is one of chitieu's labels:
under the same name, case, spaces, `-` and `_` aside (`Target value` is TARGET_VALUE), or
with its `alias` set to it (`<Label value="Tỉnh" alias="PROVINCE"/>`). Predictions then
use the project's control and object names, its text field and its label values.
Other vocabularies (`LOC`, `PER`) are not guessed at: a location is not a province and a
person is not an official, so those projects are refused with a message saying so.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import lru_cache

from chitieu.labels import LABELS

#: chitieu's names in its own config: regions come from `label` and point at `text`.
FROM_NAME = "label"
TO_NAME = "text"
TEXT_FIELD = "text"

LABEL_CONFIG = (
    f'<View>\n  <Labels name="{FROM_NAME}" toName="{TO_NAME}">\n'
    + "".join(f'    <Label value="{label}"/>\n' for label in LABELS)
    + f'  </Labels>\n  <Text name="{TO_NAME}" value="${TEXT_FIELD}"/>\n</View>\n'
)

# Label configs are a few hundred bytes; anything far larger is not one.
_MAX_CONFIG_CHARS = 200_000
_FIELD = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_HOW_TO = "`chitieu annotations label-config` (or GET /label-config) prints a config chitieu serves"


class LabelConfigError(ValueError):
    """A project's label config that chitieu cannot serve; the message says what to change."""


@dataclass(frozen=True)
class LabelMapping:
    """Where chitieu's predictions go in one project's config."""

    from_name: str
    to_name: str
    text_field: str
    #: chitieu label -> the project's label value, for the labels the project has.
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def unmapped(self) -> list[str]:
        """chitieu's labels the project has no counterpart for (never predicted there)."""
        return [label for label in LABELS if label not in self.labels]

    def describe(self) -> str:
        pairs = ", ".join(f"{ours}->{theirs}" for ours, theirs in self.labels.items())
        return f"{self.from_name} on {self.to_name} (${self.text_field}): {pairs}"


DEFAULT_MAPPING = LabelMapping(FROM_NAME, TO_NAME, TEXT_FIELD, {label: label for label in LABELS})


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).casefold()


_OURS = {_key(label): label for label in LABELS}


def _tag(element: ET.Element) -> str:
    # Label Studio reads tag names without regard to case (<text> is <Text>).
    return element.tag.lower() if isinstance(element.tag, str) else ""


def _label_map(control: ET.Element) -> tuple[dict[str, str], list[str]]:
    """chitieu label -> project label value for one <Labels>, and every value it offers."""
    mapped: dict[str, str] = {}
    values: list[str] = []
    for child in control.iter():
        if _tag(child) != "label":
            continue
        value = child.get("value") or (child.text or "").strip()
        if not value:
            continue
        values.append(value)
        for name in (value, child.get("alias") or ""):
            ours = _OURS.get(_key(name))
            if ours is not None and ours not in mapped:
                mapped[ours] = value
                break
    return mapped, values


def _text_field(obj: ET.Element) -> str:
    name = obj.get("name", "")
    if (obj.get("valueType") or obj.get("valuetype") or "").lower() == "url":
        raise LabelConfigError(
            f'<Text name="{name}"> loads its text from a URL (valueType="url"); chitieu needs the article '
            'text itself in a task field: drop valueType="url" and import the text into the tasks'
        )
    value = obj.get("value", "")
    match = _FIELD.fullmatch(value.strip())
    if match is None:
        raise LabelConfigError(
            f'<Text name="{name}"> reads value="{value}"; chitieu needs it to read a task field, as value="$text"'
        )
    return match.group(1)


def parse_label_config(config: str) -> LabelMapping:
    """The mapping for a project's config, or LabelConfigError saying why it cannot be served."""
    if not config or not config.strip():
        raise LabelConfigError(f"the label config is empty; {_HOW_TO}")
    if len(config) > _MAX_CONFIG_CHARS:
        raise LabelConfigError(f"the label config has {len(config)} characters, more than any labeling config; {_HOW_TO}")
    # Entities are never used in labeling configs, and expanding them is a way to blow up memory.
    if "<!DOCTYPE" in config or "<!ENTITY" in config:
        raise LabelConfigError("the label config declares a DOCTYPE or entities, which labeling configs do not use; remove them")
    try:
        root = ET.fromstring(config)
    except ET.ParseError as err:
        raise LabelConfigError(f"the label config is not well-formed XML ({err}); {_HOW_TO}") from None
    texts = {el.get("name"): el for el in root.iter() if _tag(el) == "text" and el.get("name")}
    found: list[str] = []
    candidates: list[tuple[ET.Element, str, dict[str, str], list[str]]] = []
    for control in root.iter():
        tag = _tag(control)
        if tag == "label" or not tag.endswith("labels") and tag not in ("choices", "textarea", "taxonomy"):
            continue
        targets = [n.strip() for n in control.get("toName", "").split(",") if n.strip()]
        found.append(f"<{control.tag} name=\"{control.get('name', '')}\" toName=\"{control.get('toName', '')}\">")
        on_text = [t for t in targets if t in texts]
        if tag == "labels" and on_text:
            mapped, values = _label_map(control)
            candidates.append((control, on_text[0], mapped, values))
    if not candidates:
        seen = ", ".join(found) if found else "no control tags"
        raise LabelConfigError(
            f"the label config has no <Labels> control on a <Text> object (found {seen}); chitieu predicts labelled "
            f"spans of text; {_HOW_TO}"
        )
    # The control that carries most of chitieu's labels; the first in the config on a tie.
    control, to_name, mapped, values = max(candidates, key=lambda c: len(c[2]))
    if not mapped:
        offered = ", ".join(sorted({v for c in candidates for v in c[3]})) or "none"
        raise LabelConfigError(
            f"none of the project's labels ({offered}) is one of chitieu's ({', '.join(LABELS)}); name the labels "
            'that mean them so (case, spaces, - and _ do not matter) or give them alias="PROVINCE" etc.; '
            "chitieu does not guess at other vocabularies (a LOC is not a province, a PER not an official)"
        )
    from_name = control.get("name", "")
    if not from_name:
        raise LabelConfigError(f'the <Labels> on "{to_name}" has no name attribute; give it one, as name="label"')
    return LabelMapping(from_name, to_name, _text_field(texts[to_name]), mapped)


@lru_cache(maxsize=256)
def cached_label_config(config: str) -> LabelMapping:
    """parse_label_config for configs sent again and again (every /predict carries one)."""
    return parse_label_config(config)
