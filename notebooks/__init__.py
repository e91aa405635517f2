"""Makes notebooks/conftest.py a module of its own (notebooks.conftest), apart from tests/conftest.py."""
