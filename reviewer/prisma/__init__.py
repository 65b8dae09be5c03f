"""The PRISMA 2020 flow diagram: counts from the review's rows (`counts`), the arithmetic
the template implies (`validate`), the PRISMA2020 data CSV (`template_csv`) and the drawing
(`diagram`)."""
