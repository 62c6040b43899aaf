"""The example site, shipped inside the package as ``mkdocs_s3_crossaccount.demo_site``.

pyproject.toml maps this folder to that package, so ``mkdocs-s3-crossaccount demo`` finds
mkdocs.yml and docs/ in an editable install (this folder) and in a wheel (a copy) alike.
"""
