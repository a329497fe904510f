// @modelpass/report — the report schema, model statistics, model diff and HTML rendering.
export {};
