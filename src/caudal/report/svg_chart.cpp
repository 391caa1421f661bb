#include "caudal/report/svg_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace caudal {
namespace {

constexpr double kWidth = 640, kHeight = 320;
constexpr double kLeft = 60, kRight = 16, kTop = 34, kBottom = 48;
constexpr double kPlotWidth = kWidth - kLeft - kRight, kPlotHeight = kHeight - kTop - kBottom;

// Round tick values (1, 2 or 5 times a power of ten) covering [lo, hi].
// `min_step`: 1 for whole numbers such as epochs. Counted, not stepped to
// the end, so that a step below the spacing of doubles cannot loop forever.
std::vector<double> nice_ticks(double& lo, double& hi, int wanted = 5, double min_step = 0) {
  if (!(hi > lo)) hi = lo + (lo == 0 ? 1 : std::abs(lo) * 0.1);
  const double raw = (hi - lo) / wanted;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  const double fraction = raw / power;
  const double step = std::max(min_step, (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power);
  if (!std::isfinite(step) || step <= 0 || !std::isfinite(lo) || !std::isfinite(hi)) return {lo, hi};
  lo = std::floor(lo / step) * step;
  hi = std::ceil(hi / step - 1e-9) * step;
  const auto count = static_cast<int64_t>(std::llround((hi - lo) / step));
  if (count < 1 || count > 50) return {lo, hi};
  std::vector<double> ticks;
  for (int64_t k = 0; k <= count; ++k) {
    const double t = lo + static_cast<double>(k) * step;
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0 : t);  // no "-0" or "1e-17" labels
  }
  return ticks;
}

std::string tick_text(double value) { return fmt::format("{:g}", std::round(value * 1e6) / 1e6); }

std::string open_svg(const std::string& id, const std::string& title) {
  return fmt::format(
      "<svg class=\"chart\" id=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\" "
      "xmlns=\"http://www.w3.org/2000/svg\">\n<text class=\"chart-title\" x=\"{}\" y=\"20\">{}</text>\n",
      escape_html(id), kWidth, kHeight, escape_html(title), kLeft, escape_html(title));
}

std::string y_axis(const std::vector<double>& ticks, double lo, double hi, const std::string& label) {
  std::string out;
  for (double t : ticks) {
    const double y = kTop + kPlotHeight * (1 - (t - lo) / (hi - lo));
    out += fmt::format("<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/>", kLeft, kLeft + kPlotWidth, y, y);
    out += fmt::format("<text class=\"tick\" x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", kLeft - 6, y + 4, tick_text(t));
  }
  out += fmt::format("<text class=\"axis-label\" transform=\"translate(14 {:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
                     kTop + kPlotHeight / 2, escape_html(label));
  return out;
}

}  // namespace

std::string escape_html(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string line_chart(const LineChartSpec& spec, const std::vector<ChartSeries>& series) {
  const bool categorical = !spec.x_categories.empty();
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  for (const auto& s : series)
    for (const auto& [x, y] : s.points) {
      x_lo = std::min(x_lo, x), x_hi = std::max(x_hi, x);
      y_lo = std::min(y_lo, y), y_hi = std::max(y_hi, y);
    }
  std::string out = open_svg(spec.id, spec.title);
  if (!std::isfinite(x_lo) || !std::isfinite(y_hi - y_lo) || !std::isfinite(x_hi - x_lo)) {
    out += fmt::format("<text class=\"empty\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">no data</text>\n</svg>\n",
                       kWidth / 2, kHeight / 2);
    return out;
  }
  // Categories sit in the middle of equal slots, so the outer labels fit.
  if (categorical) x_lo = -0.5, x_hi = static_cast<double>(spec.x_categories.size()) - 0.5;
  if (spec.y_from_zero) y_lo = std::min(0.0, y_lo);
  const auto y_ticks = nice_ticks(y_lo, y_hi);
  out += y_axis(y_ticks, y_lo, y_hi, spec.y_label);
  const double x_span = x_hi > x_lo ? x_hi - x_lo : 1;
  auto px = [&](double x) { return kLeft + kPlotWidth * (x - x_lo) / x_span; };
  auto py = [&](double y) { return kTop + kPlotHeight * (1 - (y - y_lo) / (y_hi - y_lo)); };
  if (categorical) {
    for (size_t i = 0; i < spec.x_categories.size(); ++i)
      out += fmt::format("<text class=\"tick\" x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px(static_cast<double>(i)),
                         kTop + kPlotHeight + 16, escape_html(spec.x_categories[i]));
  } else {
    double lo = x_lo, hi = x_hi;
    for (double t : nice_ticks(lo, hi, 6, 1))
      if (t >= x_lo - 1e-9 && t <= x_hi + 1e-9)
        out += fmt::format("<text class=\"tick\" x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px(t),
                           kTop + kPlotHeight + 16, tick_text(t));
  }
  out += fmt::format("<text class=\"axis-label\" x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", kLeft + kPlotWidth / 2,
                     kHeight - 8, escape_html(spec.x_label));
  for (const auto& s : series) {
    if (s.points.empty()) continue;
    std::string path;
    for (const auto& [x, y] : s.points) path += fmt::format("{}{:.1f},{:.1f}", path.empty() ? "M" : " L", px(x), py(y));
    out += fmt::format("<path class=\"series\" d=\"{}\" stroke=\"{}\"{}><title>{}</title></path>\n", path, s.colour,
                       s.dash.empty() ? "" : " stroke-dasharray=\"" + s.dash + "\"", escape_html(s.name));
    for (const auto& [x, y] : s.points)
      out += fmt::format("<circle class=\"point\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\"><title>{}: {} {}, {:.4f}</title></circle>",
                         px(x), py(y), s.colour, escape_html(s.name), escape_html(spec.x_label),
                         categorical ? escape_html(spec.x_categories[static_cast<size_t>(x)]) : tick_text(x), y);
    out += "\n";
    if (s.marked)
      out += fmt::format("<circle class=\"best-epoch\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"7\" stroke=\"{}\"><title>{}: best, {} {}, {:.4f}</title></circle>\n",
                         px(s.marked->first), py(s.marked->second), s.colour, escape_html(s.name), escape_html(spec.x_label),
                         tick_text(s.marked->first), s.marked->second);
  }
  return out + "</svg>\n";
}

std::string bar_chart(const BarChartSpec& spec, const std::vector<std::vector<double>>& values) {
  std::string out = open_svg(spec.id, spec.title);
  double lo = 0, hi = 0;
  for (const auto& group : values)
    for (double v : group) hi = std::fmax(hi, v);
  const auto ticks = nice_ticks(lo, hi);
  out += y_axis(ticks, lo, hi, spec.y_label);
  const double cluster = kPlotWidth / static_cast<double>(std::max<size_t>(spec.groups.size(), 1));
  const double bar = cluster * 0.8 / static_cast<double>(std::max<size_t>(spec.series.size(), 1));
  for (size_t g = 0; g < spec.groups.size(); ++g) {
    const double x0 = kLeft + cluster * static_cast<double>(g) + cluster * 0.1;
    for (size_t s = 0; s < spec.series.size(); ++s) {
      const double v = values[g][s];
      if (std::isnan(v)) continue;  // the run has no such group
      const double top = kTop + kPlotHeight * (1 - (v - lo) / (hi - lo));
      out += fmt::format("<rect class=\"bar\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\"><title>{}, {}: {:.4f}</title></rect>",
                         x0 + bar * static_cast<double>(s), top, bar * 0.92, kTop + kPlotHeight - top, spec.colours[s],
                         escape_html(spec.series[s]), escape_html(spec.groups[g]), v);
    }
    out += fmt::format("\n<text class=\"tick\" x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", x0 + cluster * 0.4,
                       kTop + kPlotHeight + 16, escape_html(spec.groups[g]));
  }
  return out + "</svg>\n";
}

}  // namespace caudal
