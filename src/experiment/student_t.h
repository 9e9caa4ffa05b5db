#pragma once
// Student's t distribution, for the paired t-test: the two-sided tail probability
// P(|T| >= |t|) with df degrees of freedom, through the regularized incomplete beta function
// I_x(a, b) evaluated by its continued fraction.
namespace entroscope::experiment {

// I_x(a, b) for a, b > 0 and x in [0, 1]; accurate to ~1e-14.
double regularized_incomplete_beta(double x, double a, double b);

// P(|T_df| >= |t|) = I_{df/(df+t^2)}(df/2, 1/2).
double student_t_two_sided_p(double t, double df);

}  // namespace entroscope::experiment
