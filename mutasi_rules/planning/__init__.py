"""Stage 4, planning: candidate scoring, the transfer plan, why-not, review decisions and their diffs."""
