# Reference values for analysis.stats.meta: R's metafor on review-sized data sets.
#
#   Rscript tests/analysis/metafor_reference.R > tests/analysis/metafor_reference.json
#
# Needs metafor (Debian: r-cran-metafor, which brings lme4) and jsonlite. metafor's
# defaults throughout: escalc's add = 1/2, to = "only0" for the logit and the ratios, none
# for the double arcsine; rma.glmm's nAGQ = 7; rma.mh's corrections. For each proportion
# data set: rma(measure = "PLO"/"PFT", method = "DL"/"REML"), predict() with
# transf.ilogit / transf.ipft.hm, the same with test = "knha", and rma.glmm(measure =
# "PLO"); for each two-group data set rma.mh(measure = "OR"/"RR") and rma(measure = "OR",
# method = "REML"/"DL"). Then leave1out() and a subgroup test on a few of them.
# Data sets: hand-picked edge cases (zero events, all events, k = 2) and ones drawn with a
# fixed seed; the data are written into the JSON beside the results.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

proportions <- list(
  case_series = list(xi = c(2, 1, 3, 0, 2, 4, 1, 2, 0, 3), ni = c(10, 8, 12, 6, 9, 15, 7, 11, 5, 10)),
  k2 = list(xi = c(3, 7), ni = c(20, 25)),
  k2_zero = list(xi = c(0, 4), ni = c(12, 30)),
  k2_all = list(xi = c(10, 9), ni = c(10, 15)),
  k3 = list(xi = c(5, 12, 30), ni = c(40, 60, 100)),
  zero_events = list(xi = c(0, 0, 1, 2, 0, 3), ni = c(10, 14, 9, 20, 7, 25)),
  all_events = list(xi = c(8, 10, 9, 12, 5), ni = c(8, 12, 9, 15, 5)),
  mostly_zero = list(xi = c(0, 0, 0, 0, 1), ni = c(20, 15, 30, 12, 40)),
  homogeneous = list(xi = c(10, 20, 30, 40), ni = c(100, 200, 300, 400)),
  heterogeneous = list(xi = c(5, 50, 12, 70, 3, 33), ni = c(100, 100, 60, 90, 80, 40)),
  large = list(xi = c(120, 340, 95, 410, 220), ni = c(1000, 2500, 800, 3000, 1900)),
  rare = list(xi = c(1, 0, 2, 1, 0, 0, 3, 1), ni = c(150, 200, 180, 90, 300, 120, 400, 250)),
  half = list(xi = c(5, 6, 4, 5, 7), ni = c(10, 12, 9, 10, 13)),
  single_patients = list(xi = c(1, 0, 1, 1, 0, 1, 0, 0), ni = c(1, 1, 1, 1, 1, 1, 1, 1)),
  mixed_sizes = list(xi = c(1, 15, 0, 40, 2), ni = c(3, 60, 4, 200, 5)),
  near_one = list(xi = c(95, 48, 99, 30, 60), ni = c(100, 50, 100, 31, 60)),
  # REML's Fisher scoring at full steps overshoots back and forth on the logit scale here
  # ("did not converge"): fitted with metafor's remedy, shorter steps (`rma_stepped`)
  oscillating = list(xi = c(4, 0, 0, 0, 1), ni = c(18, 5, 9, 7, 19))
)
set.seed(20)
for (i in 1:14) {
  k <- sample(c(2, 3, 4, 5, 8, 12, 20, 38), 1)
  ni <- sample(3:40, k, replace = TRUE)
  p <- plogis(rnorm(1, -1.5, 1) + rnorm(k, 0, runif(1, 0, 1.2)))
  proportions[[sprintf("drawn_%02d", i)]] <- list(xi = rbinom(k, ni, p), ni = ni)
}

two_groups <- list(
  margins = list(ai = c(3, 2, 1, 4, 0, 2), n1i = c(5, 4, 3, 6, 2, 5),
                 ci = c(1, 0, 1, 2, 0, 1), n2i = c(8, 6, 7, 10, 5, 9)),
  k2 = list(ai = c(4, 6), n1i = c(20, 25), ci = c(2, 3), n2i = c(22, 24)),
  zero_cells = list(ai = c(0, 3, 5, 2), n1i = c(10, 12, 15, 8), ci = c(2, 0, 4, 1), n2i = c(11, 10, 14, 9)),
  double_zero = list(ai = c(0, 2, 4, 1, 0), n1i = c(10, 20, 30, 15, 8), ci = c(0, 1, 1, 3, 2), n2i = c(12, 18, 28, 14, 9)),
  all_events_arm = list(ai = c(5, 8, 3, 9), n1i = c(5, 10, 6, 9), ci = c(2, 4, 1, 5), n2i = c(6, 10, 7, 10)),
  bcg = list(ai = c(4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27),
             n1i = c(123, 306, 231, 13598, 5069, 1541, 2545, 88391, 7499, 1716, 50634, 2498, 16913),
             ci = c(11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29),
             n2i = c(139, 303, 220, 12867, 5808, 1451, 629, 88391, 7277, 1665, 27338, 2341, 17854)),
  homogeneous = list(ai = c(10, 20, 15), n1i = c(50, 100, 75), ci = c(5, 10, 8), n2i = c(50, 100, 75))
)
set.seed(21)
for (i in 1:8) {
  k <- sample(c(2, 3, 5, 8, 15), 1)
  n1i <- sample(3:30, k, replace = TRUE)
  n2i <- sample(3:30, k, replace = TRUE)
  base <- rnorm(1, -1, 0.8) + rnorm(k, 0, 0.5)
  lor <- rnorm(1, 0.5, 0.6) + rnorm(k, 0, runif(1, 0, 0.8))
  two_groups[[sprintf("drawn_%02d", i)]] <- list(
    ai = rbinom(k, n1i, plogis(base + lor)), n1i = n1i,
    ci = rbinom(k, n2i, plogis(base)), n2i = n2i)
}

# rma(), retried with Fisher scoring's step scaled by 1/2, 1/4, 1/8 (its `stepadj` control,
# the remedy its error message points to) when it does not converge at full steps
rma_stepped <- function(...) {
  for (step in c(1, 0.5, 0.25, 0.125)) {
    fit <- tryCatch(rma(..., control = list(stepadj = step)), error = function(e) NULL)
    if (!is.null(fit)) return(fit)
  }
  stop("REML did not converge at any step adjustment")
}

summary_of <- function(fit, pred) {
  list(estimate = unname(pred$pred), ci_low = unname(pred$ci.lb), ci_high = unname(pred$ci.ub),
       pi_low = unname(if (is.null(pred$pi.lb)) pred$ci.lb else pred$pi.lb),
       pi_high = unname(if (is.null(pred$pi.ub)) pred$ci.ub else pred$pi.ub),
       beta = unname(c(fit$beta)), se = unname(fit$se),
       tau2 = unname(fit$tau2), i2 = unname(fit$I2), q = unname(fit$QE), q_p = unname(fit$QEp),
       k = unname(fit$k))
}

pooled_proportions <- function(d) {
  out <- list()
  for (method in c("DL", "REML")) {
    for (test in c("z", "knha")) {
      fit <- rma_stepped(measure = "PLO", xi = d$xi, ni = d$ni, method = method, test = test)
      out[[sprintf("PLO_%s_%s", method, test)]] <- summary_of(fit, predict(fit, transf = transf.ilogit))
      fit <- rma_stepped(measure = "PFT", xi = d$xi, ni = d$ni, method = method, test = test)
      pred <- predict(fit, transf = transf.ipft.hm, targs = list(ni = d$ni))
      out[[sprintf("PFT_%s_%s", method, test)]] <- summary_of(fit, pred)
    }
  }
  glmm <- tryCatch(
    suppressWarnings(rma.glmm(measure = "PLO", xi = d$xi, ni = d$ni)),
    error = function(e) NULL)
  if (!is.null(glmm)) {
    s <- summary_of(glmm, predict(glmm, transf = transf.ilogit))
    s$q <- unname(glmm$QE.Wld)
    s$q_p <- unname(glmm$QEp.Wld)
    out$GLMM <- s
  }
  out
}

pooled_two_groups <- function(d) {
  out <- list()
  for (measure in c("OR", "RR")) {
    fit <- rma.mh(measure = measure, ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i)
    out[[sprintf("%s_MH", measure)]] <- summary_of(fit, predict(fit, transf = exp))
    for (method in c("DL", "REML")) {
      fit <- rma_stepped(measure = measure, ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i, method = method)
      out[[sprintf("%s_%s", measure, method)]] <- summary_of(fit, predict(fit, transf = exp))
    }
  }
  out
}

leave_one_out <- function(d, method) {
  fit <- rma(measure = "PLO", xi = d$xi, ni = d$ni, method = method)
  l <- leave1out(fit, transf = transf.ilogit)
  list(estimate = unname(l$estimate), ci_low = unname(l$ci.lb), ci_high = unname(l$ci.ub),
       tau2 = unname(l$tau2), i2 = unname(l$I2), q = unname(l$Q), q_p = unname(l$Qp))
}

subgroup_test <- function(d, groups, method) {
  fits <- lapply(split(seq_along(d$xi), factor(groups, levels = unique(groups))), function(i)
    rma(measure = "PLO", xi = d$xi[i], ni = d$ni[i], method = method))
  between <- rma(yi = sapply(fits, function(f) c(f$beta)), sei = sapply(fits, function(f) f$se),
                 method = "FE")
  list(groups = groups, method = method, q_between = unname(between$QE),
       df_between = length(fits) - 1, p_between = unname(between$QEp),
       estimates = unname(sapply(fits, function(f) c(f$beta))))
}

result <- list(
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  lme4_version = as.character(packageVersion("lme4")),
  proportions = lapply(names(proportions), function(name)
    c(list(name = name), proportions[[name]], list(results = pooled_proportions(proportions[[name]])))),
  two_groups = lapply(names(two_groups), function(name)
    c(list(name = name), two_groups[[name]], list(results = pooled_two_groups(two_groups[[name]])))),
  leave_one_out = list(
    list(data = "case_series", method = "REML", rows = leave_one_out(proportions$case_series, "REML")),
    list(data = "heterogeneous", method = "DL", rows = leave_one_out(proportions$heterogeneous, "DL")),
    list(data = "zero_events", method = "REML", rows = leave_one_out(proportions$zero_events, "REML"))
  ),
  subgroups = list(
    c(list(data = "case_series"), subgroup_test(proportions$case_series,
      c("head", "limb", "head", "trunk", "limb", "trunk", "head", "limb", "trunk", "head"), "REML")),
    c(list(data = "heterogeneous"), subgroup_test(proportions$heterogeneous,
      c("a", "b", "a", "b", "a", "b"), "DL"))
  )
)
cat(toJSON(result, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null", na = "null"))
cat("\n")
