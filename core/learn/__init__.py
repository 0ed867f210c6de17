"""Learning from outcomes: small text models trained on a team's history or a labelled file.

- ``textmodel``: TF-IDF word and character n-grams with a linear classifier, saved as arrays;
- ``data``: labelled files read and checked; ``history``: labels from the store;
- ``train``: the recent-part test split, figures, and the activation gate;
- ``baselines``: what the rules say on the same test texts;
- ``settings``: the ``[learn]`` config section.

Training reads files and the store, so this package sits with the I/O folders; the engine only
receives fitted models (``deskwatch.core.engine.learned``).
"""
