"""The book's tables, figures, scorecard and glue helpers."""
