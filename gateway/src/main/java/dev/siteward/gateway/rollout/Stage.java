package dev.siteward.gateway.rollout;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One stage of a rollout: a percentage of the targeted devices ({@code 10%}, up to two decimals) or a label selector
 * ({@code zone=line-3}). Stages are cumulative: a device in a reached stage keeps the new version in every later
 * stage.
 */
public record Stage(String text, BigDecimal percent, String labelKey, String labelValue) {

    private static final Pattern PERCENT = Pattern.compile("(100|[0-9]{1,2})(\\.[0-9]{1,2})?%");
    private static final Pattern SELECTOR = Pattern.compile("([a-z0-9][a-z0-9._/-]{0,62})=([A-Za-z0-9][A-Za-z0-9._-]"
            + "{0,62})");

    /** Parses one stage; an {@link IllegalArgumentException} names what is wrong. */
    public static Stage parse(String text) {
        String t = text == null ? "" : text.strip();
        if (PERCENT.matcher(t).matches()) {
            BigDecimal p = new BigDecimal(t.substring(0, t.length() - 1));
            if (p.signum() <= 0 || p.compareTo(BigDecimal.valueOf(100)) > 0) {
                throw new IllegalArgumentException("stage '" + t + "' must be above 0% and at most 100%");
            }
            return new Stage(p.stripTrailingZeros().toPlainString() + "%", p, null, null);
        }
        var m = SELECTOR.matcher(t);
        if (m.matches()) {
            return new Stage(t, null, m.group(1), m.group(2));
        }
        throw new IllegalArgumentException("stage '" + t + "' is neither a percentage like 10% nor a label selector "
                + "like zone=line-3");
    }

    /**
     * Parses a comma-separated stage list: at least one stage, at most 20, percentages strictly increasing (a
     * percentage stage below an earlier one would be a no-op).
     */
    public static List<Stage> parseList(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("at least one stage is required, e.g. 1%,10%,50%,100%");
        }
        List<Stage> out = new ArrayList<>();
        BigDecimal last = BigDecimal.ZERO;
        for (String s : text.split(",", -1)) {
            Stage st = parse(s);
            if (st.percent() != null) {
                if (st.percent().compareTo(last) <= 0) {
                    throw new IllegalArgumentException("stage " + st.text() + " must be above the previous "
                            + "percentage " + last.stripTrailingZeros().toPlainString() + "%");
                }
                last = st.percent();
            }
            if (out.stream().anyMatch(o -> o.text().equals(st.text()))) {
                throw new IllegalArgumentException("stage " + st.text() + " is listed twice");
            }
            out.add(st);
        }
        if (out.size() > 20) {
            throw new IllegalArgumentException("at most 20 stages");
        }
        return List.copyOf(out);
    }

    public static String format(List<Stage> stages) {
        return String.join(",", stages.stream().map(Stage::text).toList());
    }

    /** Whether a device at cohort position {@code position} (in [0, 1)) with these labels is in this stage. */
    public boolean includes(double position, Map<String, String> labels) {
        if (percent != null) {
            return position * 100.0 < percent.doubleValue();
        }
        return labelValue.equals(labels.get(labelKey));
    }

    public boolean isFull() {
        return percent != null && percent.compareTo(BigDecimal.valueOf(100)) == 0;
    }
}
