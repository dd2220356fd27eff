"""Embedding as a Python library: HR software that already holds its records in memory.

Builds the dataset from the HR system's own objects (here: the example bundled with the
package), runs the pipeline with agency plugins switched off or on, and walks the
result objects: who moves where, on which legal basis, after which training.

    python examples/embedding/hr_service.py
"""

from __future__ import annotations

from mutasi_rules import RecommendOptions, bundled_example_dir, load_dataset, recommend


def main() -> None:
    dataset = load_dataset(bundled_example_dir())  # the example shipped inside the package
    result = recommend(dataset, RecommendOptions(max_moves=10, alternatives_per_position=3))
    print(f"{len(result.moves)} moves; EJ spread {result.balance_before.ej_std} -> {result.balance_after.ej_std}")
    for move in result.moves:
        print(f"- {move.name} ({move.nip}): {move.from_.position_name} -> {move.to.position_name} [{move.status}]")
        for finding in move.findings:
            print(f"    {finding.effect.value}: {finding.message.en} ({finding.legal_basis}; {finding.rule_key})")
        for need in move.trainings_required:
            offer = f", {need.offer.hours:g} h by {need.offer.provider}" if need.offer else ""
            print(f"    training first: {need.name}{offer}")
    for shortage in result.shortages:
        if shortage.remaining:
            print(f"unfilled: {shortage.position.position_name}: {shortage.unfilled_reason.en}")


if __name__ == "__main__":
    main()
