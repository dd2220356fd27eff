"""Stage 2, rules as data: rule files, the expression language, the rule-backend seam and its durable_rules adapter."""
