// Charts as inline SVG for the HTML report: line charts (values over epochs,
// or over named categories) and grouped bar charts. Drawn by hand: the
// report must be one self-contained file that opens from disk with no
// script, and no Debian library emits embeddable SVG fragments with the
// classes and tooltips the report styles and its browser test looks for.
// Every chart scales to its container (viewBox), so it reads in a narrow
// window.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace caudal {

struct ChartSeries {
  std::string name;    // legend text and tooltip
  std::string colour;  // "#1f77b4"
  std::vector<std::pair<double, double>> points;  // (x, y), x ascending
  std::string dash;    // SVG stroke-dasharray; "" for a solid line
  std::optional<std::pair<double, double>> marked;  // a point to ring (the best epoch)
};

struct LineChartSpec {
  std::string id, title, x_label, y_label;
  // When not empty, x values are indices into these names (categorical axis).
  std::vector<std::string> x_categories;
  bool y_from_zero = false;
};

std::string line_chart(const LineChartSpec& spec, const std::vector<ChartSeries>& series);

struct BarChartSpec {
  std::string id, title, y_label;
  std::vector<std::string> groups;   // x axis: one cluster per group
  std::vector<std::string> series;   // one bar per series in each cluster
  std::vector<std::string> colours;  // per series
};

// values[g][s]: the bar of series s in group g.
std::string bar_chart(const BarChartSpec& spec, const std::vector<std::vector<double>>& values);

// Text for HTML and SVG: & < > " escaped.
std::string escape_html(const std::string& text);

}  // namespace caudal
