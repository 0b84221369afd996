// jscodeshift's parse and print of each file, changing nothing: the yardstick of benchmarks/js_speed.py.
module.exports = (file, api) => api.jscodeshift(file.source).toSource();
