package dev.siteward.policies;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SchemaResourceTest {

    @ParameterizedTest
    @ValueSource(strings = {"policy-v1.schema.json", "policy-tests-v1.schema.json"})
    void theSchemaOnTheClasspathIsTheOneInThePolicySchemaFolder(String name) throws IOException {
        try (InputStream in = getClass().getResourceAsStream("/dev/siteward/policies/schema/" + name)) {
            assertNotNull(in, name + " is not on the classpath");
            assertArrayEquals(Files.readAllBytes(Path.of("schema", name)), in.readAllBytes());
        }
    }

    @Test
    void theExampleBundleLoadsWithItsOwnTimeZone() {
        PolicySet set = PolicyLoader.load(Path.of("examples/plant-north"), SiteConfig.DEFAULTS);
        org.junit.jupiter.api.Assertions.assertEquals("Europe/Berlin", set.timeZone().getId());
    }
}
