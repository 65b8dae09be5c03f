# Reference values for tests/analysis: R's own tests on review-sized tables.
#
#   Rscript tests/analysis/r_reference.R > tests/analysis/r_reference.json
#
# For each table: chisq.test(correct = FALSE) statistic, df and p; chisq.test(correct = TRUE)
# for 2x2 tables; fisher.test p (exact, FEXACT for r x c; tables R cannot do exactly are
# left out); and the likelihood-ratio G = 2 sum O log(O / E) over cells with O > 0, with
# its chi-square p. Then quantile(type = 7) quartiles for the numeric summaries.
# Base R only: the JSON is written by hand, numbers with 17 significant digits.

num <- function(x) sprintf("%.17g", x)
ints <- function(x) paste0("[", paste(x, collapse = ", "), "]")
matrix_json <- function(m) paste0("[", paste(apply(m, 1, ints), collapse = ", "), "]")

tables <- list(
  site_by_non_operative = rbind(c(2, 11), c(5, 29), c(4, 121), c(9, 224)),
  tea_tasting_2x2 = rbind(c(3, 1), c(1, 3)),
  perfect_split_2x2 = rbind(c(0, 5), c(5, 0)),
  zero_cell_2x2 = rbind(c(0, 10), c(3, 7)),
  moderate_2x2 = rbind(c(12, 5), c(7, 14)),
  hundreds_2x2 = rbind(c(150, 230), c(120, 260)),
  tiny_2x2 = rbind(c(2, 0), c(0, 2)),
  no_association_2x2 = rbind(c(10, 10), c(10, 10)),
  strong_2x2 = rbind(c(40, 2), c(3, 45)),
  large_2x2 = rbind(c(300, 200), c(250, 310)),
  classic_2x2 = rbind(c(1, 9), c(11, 3)),
  rare_event_2x2 = rbind(c(20, 380), c(5, 395)),
  small_2x2 = rbind(c(7, 3), c(2, 8)),
  all_but_one_2x2 = rbind(c(100, 0), c(95, 5)),
  one_in_many_2x2 = rbind(c(1, 200), c(15, 180)),
  small_2x3 = rbind(c(2, 3, 5), c(6, 4, 1)),
  zero_cell_2x3 = rbind(c(0, 12, 7), c(4, 3, 9)),
  hundreds_2x3 = rbind(c(45, 60, 30), c(52, 41, 70)),
  sparse_2x3 = rbind(c(1, 0, 4), c(3, 5, 0)),
  split_2x3 = rbind(c(0, 0, 3), c(4, 5, 0)),
  site_transposed_2x4 = rbind(c(2, 5, 4, 9), c(11, 29, 121, 224)),
  sparse_2x4 = rbind(c(0, 3, 1, 6), c(8, 2, 5, 1)),
  hundreds_2x4 = rbind(c(30, 25, 40, 12), c(20, 35, 28, 30)),
  mirrored_2x4 = rbind(c(1, 2, 3, 4), c(4, 3, 2, 1)),
  split_2x4 = rbind(c(0, 0, 0, 5), c(3, 3, 3, 0)),
  sparse_3x3 = rbind(c(3, 0, 2), c(1, 4, 1), c(0, 2, 5)),
  moderate_3x3 = rbind(c(10, 12, 15), c(8, 20, 9), c(14, 6, 11)),
  strong_3x3 = rbind(c(25, 5, 0), c(4, 22, 3), c(1, 6, 30)),
  hundreds_3x3 = rbind(c(60, 70, 55), c(48, 66, 80), c(50, 45, 70)),
  ones_3x3 = rbind(c(1, 1, 1), c(1, 1, 1), c(1, 1, 2)),
  checkerboard_3x3 = rbind(c(0, 5, 0), c(5, 0, 5), c(0, 5, 0)),
  large_3x3 = rbind(c(100, 75, 60), c(90, 80, 70), c(45, 55, 65)),
  review_3x4 = rbind(c(10, 12, 5, 8), c(9, 15, 7, 12), c(20, 8, 14, 30)),
  sparse_3x4 = rbind(c(2, 0, 3, 1), c(0, 4, 1, 2), c(3, 1, 0, 5)),
  small_3x4 = rbind(c(5, 8, 12, 3), c(7, 2, 6, 9), c(4, 10, 3, 11)),
  zeros_3x4 = rbind(c(0, 0, 5, 2), c(3, 4, 0, 1), c(2, 1, 1, 0)),
  hundreds_3x4 = rbind(c(40, 35, 20, 15), c(30, 45, 25, 20), c(22, 18, 40, 30)),
  even_3x4 = rbind(c(3, 3, 3, 3), c(2, 4, 2, 4), c(4, 2, 4, 2)),
  sparse_4x2 = rbind(c(0, 8), c(3, 5), c(6, 2), c(1, 7)),
  hundreds_4x2 = rbind(c(50, 60), c(45, 70), c(80, 30), c(20, 65)),
  tiny_4x2 = rbind(c(1, 1), c(2, 0), c(0, 3), c(4, 4)),
  trend_4x2 = rbind(c(12, 3), c(8, 7), c(4, 11), c(1, 14)),
  review_4x2 = rbind(c(30, 170), c(25, 120), c(10, 40), c(2, 8))
)

table_json <- function(name, m) {
  pearson <- suppressWarnings(chisq.test(m, correct = FALSE))
  fields <- c(
    sprintf('"name": "%s"', name),
    sprintf('"counts": %s', matrix_json(m)),
    sprintf('"pearson": {"chi2": %s, "df": %d, "p": %s}',
            num(pearson$statistic), as.integer(pearson$parameter), num(pearson$p.value))
  )
  if (all(dim(m) == 2)) {
    yates <- suppressWarnings(chisq.test(m, correct = TRUE))
    fields <- c(fields, sprintf('"yates": {"chi2": %s, "p": %s}',
                                num(yates$statistic), num(yates$p.value)))
  } else {
    fields <- c(fields, '"yates": null')
  }
  expected <- pearson$expected
  seen <- m > 0
  g <- 2 * sum(m[seen] * log(m[seen] / expected[seen]))
  df <- (nrow(m) - 1) * (ncol(m) - 1)
  fields <- c(fields, sprintf('"likelihood_ratio": {"g": %s, "df": %d, "p": %s}',
                              num(g), df, num(pchisq(g, df, lower.tail = FALSE))))
  fisher <- tryCatch(fisher.test(m, workspace = 2e8)$p.value, error = function(e) NULL)
  fields <- c(fields, sprintf('"fisher": %s', if (is.null(fisher)) "null" else num(fisher)))
  paste0("    {", paste(fields, collapse = ", "), "}")
}

samples <- list(
  ages = c(34, 51, 40, 22, 60, 18, 45, 29, 71, 38, 55),
  four_sizes = c(1.5, 2, 7, 3.25),
  one_value = c(5),
  with_ties = c(3, 1, 4, 1, 5, 9, 2, 6)
)

quantile_json <- function(name, x) {
  q <- quantile(x, c(0.25, 0.5, 0.75), type = 7, names = FALSE)
  sprintf('    {"name": "%s", "values": [%s], "q1": %s, "median": %s, "q3": %s}',
          name, paste(num(x), collapse = ", "), num(q[1]), num(q[2]), num(q[3]))
}

cat("{\n")
cat(sprintf('  "r_version": "%s",\n', R.version.string))
cat('  "tables": [\n')
cat(paste(mapply(table_json, names(tables), tables), collapse = ",\n"))
cat("\n  ],\n")
cat('  "quantiles": [\n')
cat(paste(mapply(quantile_json, names(samples), samples), collapse = ",\n"))
cat("\n  ]\n}\n")
