"""Publishing: the book's Sphinx extension, PDFs, the class kit."""
