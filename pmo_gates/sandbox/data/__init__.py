"""The bundled sample portfolio (a package so that packaging ships its JSON)."""
