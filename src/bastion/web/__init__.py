"""Public web pages: the report form (DSA Art. 16 / TAKE IT DOWN) and the appeal form."""
