package software.amazon.awssdk.services.s3;

import software.amazon.awssdk.regions.Region;

public interface S3Client extends AutoCloseable {
    static S3Client create() { return null; }
    static Builder builder() { return null; }
    String getObjectAsString(String bucket, String key);
    void close();

    interface Builder {
        Builder region(Region region);
        Builder endpointOverride(java.net.URI endpoint);
        S3Client build();
    }
}
