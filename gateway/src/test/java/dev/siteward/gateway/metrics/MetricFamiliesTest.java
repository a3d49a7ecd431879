package dev.siteward.gateway.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** How contributed metric families are put together on /prometheus. */
class MetricFamiliesTest {

    private record Fixed(String text, int order) implements MetricFamilies {
        @Override
        public String prometheus() {
            return text;
        }
    }

    private static final class Broken implements MetricFamilies {
        @Override
        public String prometheus() {
            throw new IllegalStateException("broken");
        }
    }

    @Test
    void familiesAreRenderedByOrderAndABrokenContributorIsLeftOutOfTheScrape() {
        String text = MetricFamilies.render(List.of(new Fixed("b 2\n", 20), new Broken(), new Fixed("a 1\n", 10)));
        assertEquals("a 1\nb 2\n", text);
    }

    @Test
    void labelValuesAreEscaped() {
        assertEquals("CN=a\\\\b \\\"x\\\"\\n", MetricFamilies.escape("CN=a\\b \"x\"\n"));
    }
}
