"""Gate reviews: each project scored at its current gate, a reproducible decision record kept in the store,
and the review rendered as a comment (wiki markup or ADF) for the project's anchor issue."""

from pmo_gates.review.gate_review import review_portfolio
from pmo_gates.review.models import CriterionView, ProjectReview, ReviewResult
from pmo_gates.review.render import render_gate_comment, render_gate_comment_adf

__all__ = [
    "CriterionView",
    "ProjectReview",
    "ReviewResult",
    "render_gate_comment",
    "render_gate_comment_adf",
    "review_portfolio",
]
