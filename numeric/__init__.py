"""derivcheck's numeric side: the independent witness.  All numpy work lives here."""
