package dev.siteward.device.keys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import dev.siteward.pki.testkit.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Device keys in a SoftHSM2 token through SunPKCS11, in child JVMs (SunPKCS11 finds the private token directory
 * through SOFTHSM2_CONF in the JVM's own environment). Skipped with a message when SoftHSM2 is not installed,
 * except under CI=true, where its absence is a failure.
 */
class Pkcs11DeviceKeyStoreTest {

    static final Path LIBRARY = Path.of("/usr/lib/softhsm/libsofthsm2.so");
    static final String PIN = "2468-device-pin";
    static final Duration TIMEOUT = Duration.ofSeconds(90);

    @TempDir
    static Path tmp;
    static Map<String, String> env;
    static Path config;

    static boolean softHsmPresent() {
        if (!Files.exists(LIBRARY)) {
            return false;
        }
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "softhsm2-util"))) {
                return true;
            }
        }
        return false;
    }

    @BeforeAll
    static void token() throws Exception {
        if (!softHsmPresent()) {
            String msg = "SoftHSM2 is not installed (apt-get install -y softhsm2): PKCS#11 device keys not tested";
            if ("true".equals(System.getenv("CI"))) {
                fail(msg + " — CI=true, so this is a failure, not a skip");
            }
            Assumptions.assumeTrue(false, msg);
        }
        Path tokens = Files.createDirectories(tmp.resolve("tokens"));
        Path conf = Files.writeString(tmp.resolve("softhsm2.conf"), "directories.tokendir = " + tokens + "\n"
                + "objectstore.backend = file\nlog.level = ERROR\n");
        env = new HashMap<>(Map.of("SOFTHSM2_CONF", conf.toString(), "SITEWARD_PKCS11_PIN", PIN));
        ChildJvm.Result init = ChildJvm.exec(List.of("softhsm2-util", "--init-token", "--free", "--label",
                "device-test", "--pin", PIN, "--so-pin", "1357-so-pin"), env, TIMEOUT);
        assertEquals(0, init.exitCode(), init.toString());
        config = Files.writeString(tmp.resolve("pkcs11.cfg"), String.join("\n",
                "name = SitewardDeviceTest",
                "library = " + LIBRARY,
                "slotListIndex = 0",
                "attributes(generate, CKO_PRIVATE_KEY, *) = {",
                "  CKA_TOKEN = true",
                "  CKA_SENSITIVE = true",
                "  CKA_EXTRACTABLE = false",
                "}",
                "attributes(generate, CKO_PUBLIC_KEY, *) = {",
                "  CKA_TOKEN = true",
                "}", ""));
    }

    @Test
    void aKeyGeneratedInTheTokenSignsItsCsrNeverLeavesItAndIsUsableFromAFreshJvm() {
        Path work = tmp.resolve("work");
        ChildJvm.Result enroll = ChildJvm.run(SoftHsmDeviceMain.class, env, TIMEOUT, "enroll", config.toString(),
                work.toString());
        assertEquals(0, enroll.exitCode(), enroll.toString());
        assertEquals(null, enroll.value("error"), enroll.toString());
        assertEquals("false", enroll.value("extractable"), enroll.toString());
        assertEquals("valid", enroll.value("csr"), enroll.toString());
        assertNotNull(enroll.value("label"), enroll.toString());

        ChildJvm.Result use = ChildJvm.run(SoftHsmDeviceMain.class, env, TIMEOUT, "use", work.toString());
        assertEquals(0, use.exitCode(), use.toString());
        assertEquals("pkcs11", use.value("keytype"), use.toString());
        assertEquals("false", use.value("extractable"), use.toString());
        assertEquals("verified", use.value("signature"), use.toString());
    }

    @Test
    void aWrongPinIsReportedAsBadInput() {
        Map<String, String> wrong = new HashMap<>(env);
        wrong.put("SITEWARD_PKCS11_PIN", "not-the-pin");
        ChildJvm.Result r = ChildJvm.run(SoftHsmDeviceMain.class, wrong, TIMEOUT, "enroll", config.toString(),
                tmp.resolve("wrong").toString());
        assertEquals("device.bad_input", r.value("error"), r.toString());
    }
}
