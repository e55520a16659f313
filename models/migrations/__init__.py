"""Forward-only numbered migrations, applied by ``bananapics db upgrade``.

Each ``NNNN_name.py`` defines ``up(migrator, db)`` and declares frozen copies of the tables it
creates, so later changes to ``bananapics.models`` never change what an old migration does.
"""
