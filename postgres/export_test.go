package postgres

// EscalateAfter exposes escalateAfter to the external tests.
const EscalateAfter = escalateAfter
