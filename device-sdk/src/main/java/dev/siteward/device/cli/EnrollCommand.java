package dev.siteward.device.cli;

import dev.siteward.device.Backoff;
import dev.siteward.device.DeviceException;
import dev.siteward.device.DeviceHttpClient;
import dev.siteward.device.DeviceIdentity;
import dev.siteward.device.EnrollmentClient;
import dev.siteward.device.EnrollmentRequest;
import dev.siteward.device.RetryPolicy;
import dev.siteward.device.keys.DeviceKeyStore;
import dev.siteward.device.keys.Pkcs11DeviceKeyStore;
import dev.siteward.device.keys.Pkcs12DeviceKeyStore;
import dev.siteward.device.models.ModelClient;
import dev.siteward.device.models.ModelSecurityException;
import dev.siteward.device.models.ModelTrustState;
import dev.siteward.device.models.TrustDocument;
import dev.siteward.device.store.DeviceDirectory;
import java.nio.file.Path;
import java.security.SecureRandom;
import dev.siteward.device.GatewayTimeClient;
import dev.siteward.device.time.DeviceClock;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code siteward-device enroll}: get a device identity from the gateway with a one-time token. */
@Command(name = "enroll", mixinStandardHelpOptions = true,
        description = "Enroll this device: generate its key, trust the gateway only through the pinned root "
                + "fingerprint, and store the issued certificate in the device directory.")
final class EnrollCommand implements Callable<Integer> {

    @Option(names = "--gateway", required = true, paramLabel = "ENROLL_URL",
            description = "The gateway's enrollment URL, e.g. https://gateway.local:8443.")
    String gateway;

    @Option(names = "--token", required = true, paramLabel = "TOKEN",
            description = "The one-time enrollment token (siteward token create).")
    String token;

    @Option(names = "--ca-fingerprint", required = true, paramLabel = "sha256:HEX",
            description = "The site root fingerprint given with the token (siteward ca show).")
    String fingerprint;

    @Option(names = "--pkcs11-config", paramLabel = "FILE",
            description = "Generate the key in a PKCS#11 token (SunPKCS11 config file) instead of a PKCS#12 file.")
    Path pkcs11Config;

    @Mixin
    DirOptions options;

    @Mixin
    ClockOptions clockOptions;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws DeviceException {
        EnrollmentRequest request = EnrollmentRequest.of(gateway, token, fingerprint);
        DeviceDirectory dir = options.directory();
        DeviceClock clock = clockOptions.open(dir);
        if (clock.needsGatewayTime()) {
            // no trusted time yet: learn it from the gateway, trusting the root it presents only through the pin
            GatewayTimeClient.forPin(request.gateway(), request.pin(), System::nanoTime).synchronize(clock);
        }
        DeviceKeyStore keys = pkcs11Config != null
                ? new Pkcs11DeviceKeyStore(pkcs11Config, Pkcs11DeviceKeyStore.pin(options.pinFile))
                : new Pkcs12DeviceKeyStore(dir.keysDir(), clock);
        RetryPolicy retry = new RetryPolicy(new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(10),
                new SecureRandom()), 4, d -> Thread.sleep(d.toMillis()));
        DeviceIdentity id = new EnrollmentClient(clock, retry).enroll(request, dir, keys);
        clock.record();
        spec.commandLine().getOut().println("enrolled device '" + id.deviceId() + "' (" + id.state().spiffeId()
                + "), certificate expires " + id.expires() + "; identity in " + dir.path());
        // pin the site's model publisher trust now, over the new credential; best effort: model fetch pins it too
        try {
            TrustDocument trust = ModelClient.over(new DeviceHttpClient(id, clock), dir, clock, RetryPolicy.once(),
                    ModelTrustState.DEFAULT_OFFLINE_ALLOWANCE).pinTrust();
            spec.commandLine().getOut().println("pinned the site's model publisher trust (version " + trust.version()
                    + ", " + trust.publishers().size() + " publisher(s))");
        } catch (DeviceException | ModelSecurityException | RuntimeException e) {
            spec.commandLine().getOut().println("model publisher trust not pinned yet (" + e.getMessage()
                    + "); model fetch pins it");
        }
        return DeviceCommand.OK;
    }
}
