// The AWS SDK warns once per process that future versions need Node 22; the tests run on Node 20 too.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
