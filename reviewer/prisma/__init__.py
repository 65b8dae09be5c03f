"""The PRISMA 2020 flow diagram: counts from the review's rows (`counts`), what still waits
and makes it provisional (`provisional`), the arithmetic the template implies (`validate`),
the PRISMA2020 data CSV (`template_csv`), the drawing (`layout`, `diagram`), and every file
as the exports hand it out (`files`)."""
