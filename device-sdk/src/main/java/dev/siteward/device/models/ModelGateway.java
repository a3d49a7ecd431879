package dev.siteward.device.models;

import dev.siteward.device.DeviceException;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;

/**
 * The gateway's model routes as the device uses them (docs/model-releases.md, "Device API"). Every failure is a
 * {@link DeviceException}: transport failures are {@link DeviceException#retryable()}.
 */
public interface ModelGateway {

    /** {@code GET /v1/models/trust}: the trust document, compact JWS. */
    String trust() throws DeviceException;

    /** {@code GET /v1/models/metadata}: this device's release metadata, compact JWS. */
    String metadata() throws DeviceException;

    /**
     * {@code GET /v1/models/blobs/{sha256}}, from byte {@code offset} on ({@code Range: bytes=offset-} when above
     * 0). The answer says where its body starts: a server that ignores the range answers from 0.
     */
    BlobBody blob(String sha256, long offset) throws DeviceException;

    /** {@code POST /v1/models/reports}. */
    void report(ModelReport report) throws DeviceException;

    /** A blob's body from {@code offset} on; the caller closes it. */
    record BlobBody(InputStream body, long offset) implements Closeable {
        @Override
        public void close() throws IOException {
            body.close();
        }
    }
}
