"""Line sources: files and directories, syslog listeners, Kafka consumer groups."""
