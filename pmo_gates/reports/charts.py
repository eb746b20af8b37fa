"""Drawing a :class:`~pmo_gates.reports.models.ChartSpec` as PNG bytes with matplotlib.

Figures are made with :class:`matplotlib.figure.Figure` and its Agg canvas directly, never through
``pyplot``: no global figure registry to leak memory in a long-running Prefect worker, no GUI backend
to pick, and safe in threads. PNGs carry no software/version metadata, so the same data draws the same
bytes.
"""

from __future__ import annotations

import io

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, StrMethodFormatter

from pmo_gates.reports.models import ChartSpec

WIDTH_IN = 10.0
DPI = 100
_PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]


def label(text: str) -> str:
    """User text as a literal label: matplotlib would read ``$...$`` in a name as mathematics."""
    return text.replace("$", r"\$")


def _colour(spec: ChartSpec, name: str, index: int) -> str:
    return spec.colors.get(name, _PALETTE[index % len(_PALETTE)])


def _height(spec: ChartSpec) -> float:
    if spec.kind == "barh_stacked":
        return max(4.0, 1.8 + 0.32 * len(spec.categories))
    if spec.kind == "heatmap":
        return max(4.0, 2.2 + 0.3 * len(spec.categories))
    return 4.8


def draw(spec: ChartSpec) -> bytes:
    figure = Figure(figsize=(WIDTH_IN, _height(spec)), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    title = label(spec.title) + (f"\n({label(spec.note)})" if spec.note else "")
    axes.set_title(title, fontsize=11)
    empty = not spec.categories or (spec.kind == "heatmap" and not spec.columns)
    if empty:
        axes.text(0.5, 0.5, "no data yet", ha="center", va="center", fontsize=14, color="#777777")
        axes.set_axis_off()
    elif spec.kind == "barh_stacked":
        _barh_stacked(axes, spec)
    elif spec.kind == "bar_stacked":
        _bar_stacked(axes, spec)
    elif spec.kind == "bar_grouped":
        _bar_grouped(axes, spec)
    else:
        _heatmap(figure, axes, spec)
    if not empty:
        if spec.xlabel:
            axes.set_xlabel(label(spec.xlabel))
        if spec.ylabel:
            axes.set_ylabel(label(spec.ylabel))
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _legend(axes: Axes, spec: ChartSpec) -> None:
    if len(spec.series) + len(spec.targets) > 1:
        # Outside the plot, so it never hides a bar; tight_layout makes room for it.
        axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)


def _whole_numbers(axes: Axes, spec: ChartSpec) -> None:
    """Counts get whole-number ticks (no "1.25 decisions")."""
    if spec.counts:
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))


def _barh_stacked(axes: Axes, spec: ChartSpec) -> None:
    # The first category (rank 1) at the top, where the eye starts reading.
    positions = list(range(len(spec.categories)))[::-1]
    left = [0.0] * len(spec.categories)
    for index, (name, values) in enumerate(spec.series.items()):
        axes.barh(positions, values, left=left, color=_colour(spec, name, index), label=label(name))
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.set_yticks(positions, [label(c) for c in spec.categories], fontsize=8)
    axes.grid(axis="x", alpha=0.3)
    _legend(axes, spec)


def _ticks(axes: Axes, spec: ChartSpec) -> None:
    # Rotate only when the labels would not fit side by side (about 90 characters across the plot).
    rotate = len(spec.categories) * max((len(c) for c in spec.categories), default=0) > 90
    axes.set_xticks(
        range(len(spec.categories)),
        [label(c) for c in spec.categories],
        rotation=45 if rotate else 0,
        ha="right" if rotate else "center",
        fontsize=8,
    )


def _bar_stacked(axes: Axes, spec: ChartSpec) -> None:
    bottom = [0.0] * len(spec.categories)
    for index, (name, values) in enumerate(spec.series.items()):
        axes.bar(range(len(values)), values, bottom=bottom, color=_colour(spec, name, index), label=label(name))
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    _ticks(axes, spec)
    _whole_numbers(axes, spec)
    axes.grid(axis="y", alpha=0.3)
    _legend(axes, spec)


def _bar_grouped(axes: Axes, spec: ChartSpec) -> None:
    count = max(1, len(spec.series))
    width = 0.8 / count
    for index, (name, values) in enumerate(spec.series.items()):
        offsets = [i - 0.4 + width * (index + 0.5) for i in range(len(values))]
        axes.bar(offsets, values, width=width, color=_colour(spec, name, index), label=label(name))
    for index, (name, value) in enumerate(spec.targets.items()):
        colour = spec.colors.get(name, _PALETTE[(index + 3) % len(_PALETTE)])
        axes.axhline(value, linestyle="--", linewidth=1, color=colour, label=label(name))
    _ticks(axes, spec)
    if max((v for values in spec.series.values() for v in values), default=0.0) >= 10_000:
        axes.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))  # money reads better as 40,000
    else:
        _whole_numbers(axes, spec)
    axes.grid(axis="y", alpha=0.3)
    _legend(axes, spec)


def _heatmap(figure: Figure, axes: Axes, spec: ChartSpec) -> None:
    image = axes.imshow(spec.matrix, aspect="auto", cmap="YlOrRd", interpolation="nearest")
    axes.set_yticks(range(len(spec.categories)), [label(c) for c in spec.categories], fontsize=8)
    axes.set_xticks(range(len(spec.columns)), [label(c) for c in spec.columns], rotation=45, ha="right", fontsize=8)
    figure.colorbar(image, ax=axes, label="open items")
    if len(spec.categories) * len(spec.columns) <= 400:  # numbers stay legible only in a small grid
        high = max((v for row in spec.matrix for v in row), default=0.0)
        for y, row in enumerate(spec.matrix):
            for x, value in enumerate(row):
                if value:
                    dark = high and value > high * 0.6
                    colour = "white" if dark else "black"
                    axes.text(x, y, f"{value:g}", ha="center", va="center", fontsize=7, color=colour)
