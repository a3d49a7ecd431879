package dev.siteward.gateway.inference;

import static org.junit.jupiter.api.Assertions.assertFalse;

import org.junit.jupiter.api.Test;

class InferenceConfigurationTest {

    @Test
    void relayModeIsOffByDefaultSoReadingsRunThroughTheirModel() {
        assertFalse(new InferenceConfiguration().isRelay());
    }
}
