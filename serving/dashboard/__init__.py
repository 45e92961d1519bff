"""The analyst dashboard (`c360 serve dashboard`): Dash and Plotly pages over the same backend and roles as the
REST API (docs/serving.md)."""
