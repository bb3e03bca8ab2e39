"""MkDocs hook: generate the model-card reference page (``models.md``) from ``models/*.toml``.

The page is built from `efftheory.list_models` and `efftheory.load_card` at every build, so
it cannot drift from the cards. `model_cards_markdown()` is also what the docs test checks.
"""

from fractions import Fraction

PAGE = "models.md"

_INTRO = """\
# Model cards

A model card is a TOML file in `models/` (shipped in the wheel) that names a builder, its
parameters, the source of the model, and the learning coefficients known for it. Build one
with `efftheory.load_model(name, **overrides)`, list them with `efftheory models`, and study
one across $n$ with `efftheory run <name>`. The schema is in
[`efftheory.load_card`](api/models.md#model-cards). A card for your own model names its
builder as `builder = "package.module:function"`
([Your own model](your-model.md#your-model-in-a-study-a-card-and-a-sweep)).

*This page is generated from the cards at every documentation build.*

| card | parameters | exact $\\lambda(n)$ | known values $\\lambda$ (m) | summary |
| --- | ---: | :---: | --- | --- |
"""


def _value(value) -> str:
    if isinstance(value, Fraction):
        text = str(value)
        return text if value.denominator == 1 else f"{text} ≈ {float(value):.4g}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def model_cards_markdown() -> str:
    """The model-card reference page as Markdown: a table, then one section per card."""
    import efftheory

    rows = efftheory.list_models()
    lines = [_INTRO.rstrip("\n")]
    for row in rows:
        known = "; ".join(f"{_value(v['learning_coefficient'])} ({v['multiplicity']})"
                          for v in row["known_values"]) or "–"
        lines.append(f"| [`{row['name']}`](#{row['name']}) | {row['num_params']} | "
                     f"{'yes' if row['exact'] else 'no'} | {known} | {_cell(row['summary'])} |")
    lines.append("")
    for row in rows:
        card = efftheory.load_card(row["name"])
        lines += [f"## `{card.name}` {{ #{card.name} }}", "", _cell(card.summary), "",
                  f"- **builder:** `{card.builder}`, {card.num_params} parameters",
                  f"- **source:** {_cell(card.source)}",
                  f"- **exact reference:** {'yes' if card.exact_available else 'no'}"
                  + (f" ({_cell(card.exact_reason)})" if card.exact_reason else ""),
                  "", "| parameter | value |", "| --- | --- |"]
        lines += [f"| `{key}` | `{value!r}` |" for key, value in card.parameter_items]
        lines.append("")
        if card.known_values:
            lines += ["| known value | $\\lambda$ | m | reference |", "| --- | --- | --- | --- |"]
            for value in card.known_values:
                label = _cell(value.label) + (f" ({_cell(value.note)})" if value.note else "")
                lines.append(f"| {label} | {_value(value.learning_coefficient)} | "
                             f"{value.multiplicity} | {_cell(value.reference)} |")
            lines.append("")
    return "\n".join(lines)


def on_files(files, config):
    from mkdocs.structure.files import File

    files.append(File.generated(config, PAGE, content=model_cards_markdown()))
    return files
