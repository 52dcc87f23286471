// The trace types the dashboard's figures draw (scatter is in plotly.js's core). A figure of any other type would
// not draw: tests/test_plotlyjs.py checks every type the code builds is listed here.
module.exports = ['bar', 'heatmap', 'choroplethmap', 'densitymap'];
